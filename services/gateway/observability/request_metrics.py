"""Counting answered requests by route template, method and status (an ASGI middleware)."""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.observability.metrics import HTTP_REQUESTS


class RequestMetricsMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        # The template (`/attachments/{attachment_id:str}/upload`), not the path: one series per
        # route however many ids are requested.
        route = scope.get("path_template") or "unmatched"
        method = str(scope.get("method", ""))
        counted = False

        async def counting_send(message: Message) -> None:
            nonlocal counted
            if message["type"] == "http.response.start" and not counted:
                counted = True
                status = str(message["status"])
                HTTP_REQUESTS.labels(route=route, method=method, status=status).inc()
            await send(message)

        await next_app(scope, receive, counting_send)
