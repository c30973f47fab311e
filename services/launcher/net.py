"""Port picking and readiness polling for locally started services."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import httpx

from services.launcher.errors import LaunchError


def free_port(host: str = "127.0.0.1") -> int:
    """A port the OS considers free right now (another process could still take it before us,
    which is acceptable for a dev tool: the service then fails to start with a clear error)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on `host:port` now.

    With SO_REUSEADDR, as the servers themselves bind (uvicorn does): the connections of a
    server that just stopped linger in TIME_WAIT for a minute, and without it the port would
    look taken although the gateway could start on it. A port someone listens on still fails.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_until_healthy(
    url: str,
    *,
    what: str,
    timeout_s: float,
    check_alive: Callable[[], None] = lambda: None,
) -> None:
    """Poll `url` until it answers 200. `check_alive` raises if the process serving it died,
    so a crash is reported at once instead of after the whole timeout."""
    deadline = time.monotonic() + timeout_s
    last_problem = "no answer yet"
    while time.monotonic() < deadline:
        check_alive()
        try:
            response = httpx.get(url, timeout=2.0)
        except httpx.HTTPError as exc:
            last_problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 200:
                return
            last_problem = f"HTTP {response.status_code}"
        time.sleep(0.2)
    raise LaunchError(
        f"{what} did not become healthy at {url} within {timeout_s:.0f}s ({last_problem})"
    )
