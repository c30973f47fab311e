"""Authentication before any byte of the body is read, on every route but the public ones.

Litestar parses a handler's `data` (and runs its dependencies) only after its guards, so a guard
on the whole app is the one place that runs first everywhere: an unauthenticated client gets
its 401 (and counts against the per-IP limit) without the gateway waiting for, or holding, a
body. Routes meant for anyone (health, metrics, the dev page, the API schema) carry `PUBLIC`.
"""

from __future__ import annotations

from typing import Any, Final

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from services.gateway.auth.identity import STATE_KEY, authenticate
from services.gateway.resources import GatewayResources

PUBLIC: Final = {"public": True}
"""`opt` of the routes (or routers) that need no login."""


async def require_login(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Litestar guard: 401 / 403 / 429 unless the caller is signed in (or the route is public);
    the handler's `request_context` dependency then reuses the answer."""
    if handler.opt.get("public"):
        return
    resources: GatewayResources = connection.app.state.resources
    connection.state[STATE_KEY] = await authenticate(connection, resources)
