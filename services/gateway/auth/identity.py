"""Who is calling: the one entry point every authenticated route depends on.

`authenticate` finds the token (Bearer header for API clients, else the httpOnly cookie), checks
cookie-authenticated requests against cross-site forgery, verifies the token and counts failures
against the caller's IP. It runs as the app's guard (`login_guard.py`), before any body is read;
`provide_request_context` (a Litestar dependency) hands the guard's answer to the handler.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import State

from services.gateway.auth.csrf import check_cookie_request
from services.gateway.resources import GatewayResources
from shared.errors import UnauthorizedError
from shared.observability.log_context import bind_log_context
from shared.request_context import RequestContext

STATE_KEY = "request_context"
"""Where the guard leaves the authenticated `RequestContext` in the connection's state."""


def token_from_request(
    request: ASGIConnection[Any, Any, Any, Any], cookie_name: str
) -> tuple[str, bool]:
    """The token and whether it came from the cookie; `UnauthorizedError` when there is none."""
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), False
    cookie = request.cookies.get(cookie_name)
    if cookie:
        return cookie, True
    raise UnauthorizedError(
        f"Sign in first: send the session token in the '{cookie_name}' cookie "
        "or an 'Authorization: Bearer' header."
    )


def client_ip(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    # uvicorn puts the proxy's X-Forwarded-For here when the proxy is trusted
    # (FORWARDED_ALLOW_IPS), so this is the browser's address behind a load balancer.
    return request.client.host if request.client else "unknown"


async def provide_request_context(
    request: Request[object, object, State], resources: GatewayResources
) -> RequestContext:
    """Litestar dependency: the user the guard authenticated (or, on a route the guard skips,
    the authenticated user now), or 401 / 403 / 429."""
    known = request.state.get(STATE_KEY)
    if isinstance(known, RequestContext):
        return known
    return await authenticate(request, resources)


async def authenticate(
    request: ASGIConnection[Any, Any, Any, Any], resources: GatewayResources
) -> RequestContext:
    """The authenticated user, or 401 / 403 / 429; reads headers only, never the body."""
    auth = resources.settings.auth
    try:
        token, from_cookie = token_from_request(request, auth.cookie_name)
        user_id = await resources.verifier.verify(token)
    except UnauthorizedError:
        await resources.anonymous_rate.hit(client_ip(request))  # 429 once over the limit
        raise
    bind_log_context(user_id=user_id)  # the request's log lines carry the (hashed) user
    if from_cookie:
        check_cookie_request(
            str(request.scope.get("method", "GET")),
            request.headers,
            resources.settings.gateway.allowed_origins,
        )
    return RequestContext(user_id=user_id)
