"""`/mcp` in the Litestar app: Bearer authentication in front of MCP's streamable HTTP transport.

The transport runs stateless (no session kept between requests), so any gateway replica answers
any request. Its session manager needs a running task group: `open_mcp` is entered in the
gateway's lifespan and the mount finds the manager in the app state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Final, cast

from litestar import Litestar, MediaType, Request, Response
from litestar.datastructures import State
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from services.gateway.auth.identity import provide_request_context
from services.gateway.mcp.server import USER_SCOPE_KEY, build_mcp_server
from services.gateway.resources import GatewayResources
from shared.errors import UnauthorizedError

MCP_PATH: Final = "/mcp"
STATE_KEY: Final = "mcp_sessions"


@asynccontextmanager
async def open_mcp(
    resources: GatewayResources, max_body_bytes: int
) -> AsyncIterator[StreamableHTTPSessionManager]:
    """The MCP transport over the task catalog, running until the block ends."""
    manager = StreamableHTTPSessionManager(
        app=build_mcp_server(resources.pool),
        stateless=True,
        # One JSON answer per request: nothing here streams, and proxies handle it plainly.
        json_response=True,
        max_request_body_size=max_body_bytes,
    )
    async with manager.run():
        yield manager


async def _unauthorized(detail: str, scope: Scope, receive: Receive, send: Send) -> None:
    response = Response(
        content={"status_code": 401, "detail": detail},
        status_code=401,
        media_type=MediaType.JSON,
        headers={"WWW-Authenticate": 'Bearer realm="taskchat"'},
    )
    await response.to_asgi_response(app=None, request=Request(scope))(scope, receive, send)


@asgi(MCP_PATH, is_mount=True, copy_scope=True)
async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    app: Litestar = scope["litestar_app"]
    request: Request[object, object, State] = Request(scope, receive)
    # Bearer only: a browser's cookie must not let another site drive the tools.
    if not request.headers.get("authorization", "").lower().startswith("bearer "):
        await _unauthorized(
            "Send the TaskChat token as 'Authorization: Bearer <token>' (see `taskchat token`).",
            scope,
            receive,
            send,
        )
        return
    try:
        context = await provide_request_context(request, app.state.resources)
    except UnauthorizedError as exc:
        await _unauthorized(exc.detail, scope, receive, send)
        return
    manager: StreamableHTTPSessionManager = app.state[STATE_KEY]
    # The scope is this mount's own copy (copy_scope); the MCP handler reads the user from it.
    cast(dict[str, Any], scope)[USER_SCOPE_KEY] = context.user_id
    await manager.handle_request(scope, receive, send)  # type: ignore[arg-type]
