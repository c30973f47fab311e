"""Finding the caller's token on a request: an httpOnly cookie for browsers, Bearer for APIs."""

from __future__ import annotations

from litestar import Request
from litestar.datastructures import State

from services.gateway.auth.tokens import verify_token
from services.gateway.resources import GatewayResources
from shared.errors import UnauthorizedError
from shared.observability.log_context import bind_log_context
from shared.request_context import RequestContext


def token_from_request(request: Request[object, object, State], cookie_name: str) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    cookie = request.cookies.get(cookie_name)
    if cookie:
        return cookie
    raise UnauthorizedError(
        f"Sign in first: send the session token in the '{cookie_name}' cookie "
        "or an 'Authorization: Bearer' header."
    )


async def provide_request_context(
    request: Request[object, object, State], resources: GatewayResources
) -> RequestContext:
    """Litestar dependency: the authenticated user, or a 401."""
    auth = resources.settings.auth
    token = token_from_request(request, auth.cookie_name)
    user_id = verify_token(auth.jwt_secret, token)
    bind_log_context(user_id=user_id)  # the request's log lines carry the (hashed) user
    return RequestContext(user_id=user_id)
