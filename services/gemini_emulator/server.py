"""Running the app under uvicorn: as the main process, or in the background of a test.

We bind the listening socket ourselves so port 0 works: the OS picks a free port and we can
report the real URL before serving (no races between "find a free port" and "bind it").
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator, Iterator

import uvicorn

from services.gemini_emulator.app import create_app
from services.gemini_emulator.config import EmulatorConfig

# A hung stream whose client never disconnects must not stall shutdown forever.
GRACEFUL_SHUTDOWN_S = 2


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: accepted sockets inherit `proto`, and asyncio only enables
    # TCP_NODELAY when it is set; without it every keep-alive response stalls ~40 ms on Nagle.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # Listening now (not when uvicorn starts) means a printed URL already accepts connections;
    # they wait in the backlog until the server is up, so callers need no retry loop.
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def bound_config(config: EmulatorConfig, sock: socket.socket) -> EmulatorConfig:
    """`config` with the port actually bound (differs from the requested one for port 0)."""
    return dataclasses.replace(config, port=sock.getsockname()[1])


def build_server(
    config: EmulatorConfig,
    *,
    log_level: str = "info",
    server_class: type[uvicorn.Server] = uvicorn.Server,
) -> uvicorn.Server:
    return server_class(
        uvicorn.Config(
            create_app(config),
            log_level=log_level,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
            # The app has no startup/shutdown hooks; skipping lifespan avoids noise.
            lifespan="off",
        )
    )


class _BackgroundServer(uvicorn.Server):
    """A server that leaves signal handling to the host process (pytest, another service)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def running_emulator(
    config: EmulatorConfig | None = None, *, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Serve an emulator on the current event loop; yields its base URL (`.../v1beta/openai/`).

    The default config listens on 127.0.0.1 with an OS-chosen free port.
    """
    requested = config or EmulatorConfig(port=0)
    sock = bind_socket(requested.host, requested.port)
    try:
        resolved = bound_config(requested, sock)
        server = build_server(resolved, log_level=log_level, server_class=_BackgroundServer)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        try:
            while not server.started:
                if task.done():
                    task.result()  # re-raise the start-up error
                    raise RuntimeError("emulator exited during start-up")
                await asyncio.sleep(0.01)
            yield resolved.base_url
        finally:
            server.should_exit = True
            await task
    finally:
        sock.close()
