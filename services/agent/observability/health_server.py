"""The worker's HTTP port: `GET /healthz` for its liveness probe, `GET /metrics` for Prometheus.

A worker has no web framework (it is an arq process), and this needs two fixed GET routes, so a
small asyncio server is enough. The metrics text itself comes from prometheus_client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

logger = logging.getLogger(__name__)

READ_TIMEOUT_S = 5.0
MAX_HEADER_LINES = 100


def _response(status: str, content_type: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


def _json(status: str, payload: dict[str, object]) -> bytes:
    return _response(status, "application/json", json.dumps(payload).encode())


class WorkerHealthServer:
    def __init__(self, worker_id: str, is_alive: Callable[[], bool]) -> None:
        self._worker_id = worker_id
        self._is_alive = is_alive
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)
        logger.info("worker health and metrics on http://%s:%d/healthz and /metrics", host, port)

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def answer(self, method: str, path: str) -> bytes:
        if method != "GET":
            return _json("405 Method Not Allowed", {"detail": "Only GET is served here."})
        match path.split("?", 1)[0]:
            case "/healthz":
                if self._is_alive():
                    return _json("200 OK", {"status": "ok", "worker_id": self._worker_id})
                return _json("503 Service Unavailable", {"status": "heartbeat stopped"})
            case "/metrics":
                return _response("200 OK", CONTENT_TYPE_LATEST, generate_latest(REGISTRY))
        return _json("404 Not Found", {"detail": "Try /healthz or /metrics."})

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                request_line = (await reader.readline()).decode("latin-1").split()
                for _ in range(MAX_HEADER_LINES):  # headers are not needed, only skipped
                    if (await reader.readline()) in (b"\r\n", b"\n", b""):
                        break
            if len(request_line) < 2:
                writer.write(_json("400 Bad Request", {"detail": "Not an HTTP request."}))
            else:
                writer.write(self.answer(request_line[0], request_line[1]))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
