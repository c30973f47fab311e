"""The load generator's HTTP/1.1: one keep-alive connection per simulated user, nothing more.

The load generator shares the machine with what it measures, so every millisecond it spends is
taken from the server under test. httpx cost it 10 to 20 ms of CPU per turn at 200 open streams
(a connection pool scanned on every request, per-chunk decoding layers); this client reads the
status line, the headers and a chunked or sized body straight off an asyncio stream and hands the
body on line by line, for a fraction of that. It speaks only what a ChatKit turn needs: a POST
with a JSON body, answered by a stream of lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class ProtocolError(Exception):
    """The server's answer is not HTTP/1.1 this client can read."""


@dataclass(frozen=True, slots=True)
class Origin:
    host: str
    port: int
    tls: bool

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        return cls(parts.hostname, parts.port or (443 if tls else 80), tls)


@dataclass(slots=True)
class Response:
    status: int
    headers: dict[str, str]
    """Lower-case names; a repeated header keeps its last value."""
    _reader: asyncio.StreamReader
    _chunked: bool
    _remaining: int | None
    """Bytes of a sized body still unread (None: chunked, or until the connection closes)."""
    keep_alive: bool = True
    """The server did not say it closes the connection after this answer."""
    complete: bool = field(default=False)
    """The whole body was read: the connection may carry the next request."""

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives."""
        reader = self._reader
        if self._chunked:
            while True:
                size_line = await reader.readuntil(b"\r\n")
                try:
                    size = int(size_line.split(b";", 1)[0], 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size line {size_line[:40]!r}") from None
                if size == 0:
                    await reader.readuntil(b"\r\n")  # no trailers are sent by our servers
                    self.complete = True
                    return
                data = await reader.readexactly(size + 2)
                yield data[:-2]
        elif self._remaining is not None:
            while self._remaining > 0:
                data = await reader.read(min(self._remaining, 65536))
                if not data:
                    raise asyncio.IncompleteReadError(b"", self._remaining)
                self._remaining -= len(data)
                yield data
            self.complete = True
        else:
            while data := await reader.read(65536):
                yield data

    async def lines(self) -> AsyncIterator[str]:
        """The body line by line, without line endings (a last unterminated line included)."""
        pending = b""
        async for chunk in self.chunks():
            pending += chunk
            if b"\n" not in chunk:
                continue
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield line.decode()
        if pending:
            yield pending.decode()

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


class Connection:
    """A keep-alive connection to one origin, reopened when the server has closed it."""

    def __init__(self, url: str) -> None:
        self._origin = Origin.of(url)
        self._ssl = ssl.create_default_context() if self._origin.tls else None
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._response: Response | None = None

    async def post(self, path: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """Send a POST and return once the status line and headers are in; read the body from
        the response before the next request."""
        head = self._request_head(path, len(body), headers)
        reused = self._reusable()
        if not reused:
            await self._open()
        try:
            return await self._exchange(head + body)
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            if not reused or (isinstance(exc, asyncio.IncompleteReadError) and exc.partial):
                raise
        # The server closed the idle connection as we reused it (nothing of an answer came
        # back, so nothing was processed): once more on a new one.
        await self._open()
        return await self._exchange(head + body)

    async def close(self) -> None:
        if self._streams is not None:
            writer = self._streams[1]
            self._streams = None
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    def _reusable(self) -> bool:
        if self._streams is None:
            return False
        previous = self._response
        finished = previous is None or (previous.complete and previous.keep_alive)
        if not finished or self._streams[0].at_eof():
            self._streams[1].close()
            self._streams = None
            return False
        return True

    async def _open(self) -> None:
        await self.close()
        origin = self._origin
        self._streams = await asyncio.open_connection(
            origin.host, origin.port, ssl=self._ssl, limit=1 << 20
        )

    def _request_head(self, path: str, length: int, headers: Mapping[str, str]) -> bytes:
        origin = self._origin
        default_port = 443 if origin.tls else 80
        host = origin.host if origin.port == default_port else f"{origin.host}:{origin.port}"
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {length}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    async def _exchange(self, request: bytes) -> Response:
        assert self._streams is not None
        reader, writer = self._streams
        writer.write(request)
        await writer.drain()
        status_line = await reader.readuntil(b"\r\n")
        version, _, rest = status_line.decode("latin-1").partition(" ")
        code = rest.split(" ", 1)[0]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ProtocolError(f"unexpected status line {status_line[:80]!r}")
        status = int(code)
        headers: dict[str, str] = {}
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")
        remaining = None if chunked or length is None else int(length)
        keep_alive = headers.get("connection", "").lower() != "close"
        response = Response(status, headers, reader, chunked, remaining, keep_alive)
        self._response = response
        return response
