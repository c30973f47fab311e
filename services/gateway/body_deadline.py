"""A deadline for receiving the request body, on every route (`BODY_READ_TIMEOUT_S`).

uvicorn never times out a body, so a client trickling one byte at a time would hold a connection
and a handler for as long as it likes. This ASGI middleware counts from the request's arrival:
once the deadline passes before the last body chunk, the client gets a 408 with the gateway's
usual JSON body, whichever handler was waiting (Litestar's own, the upload form parser or the MCP
transport), and the handler's later answer is dropped. After the whole body has arrived,
`receive` is passed through untouched (a streaming response waits on it for the disconnect).
"""

from __future__ import annotations

import asyncio
import json

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, ReceiveMessage, Scope, Send

from shared.errors import RequestTimeoutError


class BodyReadDeadline:
    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self._app = app
        self._timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not _has_body(scope):
            await self._app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self._timeout_s
        body_done = False
        response_started = False
        timed_out = False

        async def timed_receive() -> ReceiveMessage:
            nonlocal body_done, timed_out
            if body_done:
                return await receive()
            remaining = deadline - asyncio.get_running_loop().time()
            try:
                async with asyncio.timeout(max(remaining, 0.0)):
                    message = await receive()
            except TimeoutError:
                timed_out = True
                if not response_started:
                    await self._send_timeout(send)
                raise RequestTimeoutError(self._detail()) from None
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if timed_out:
                return  # the 408 has been sent; whatever the handler answers is too late
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self._app(scope, timed_receive, guarded_send)
        except RequestTimeoutError:
            if not timed_out:
                raise

    def _detail(self) -> str:
        return f"The request body did not arrive within {self._timeout_s:g} s."

    async def _send_timeout(self, send: Send) -> None:
        body = json.dumps({"status_code": 408, "detail": self._detail()}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 408,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body, "more_body": False})


def _has_body(scope: Scope) -> bool:
    """Whether the request announces a body (a length other than 0, or chunked encoding)."""
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False
