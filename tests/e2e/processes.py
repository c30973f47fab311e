"""Starting the real services as child processes for end-to-end tests (on the launcher's
`ChildProcess`: each dies with the test session, however the session ends)."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from services.launcher.errors import LaunchError
from services.launcher.net import free_port, wait_until_healthy
from services.launcher.processes import ChildProcess
from services.launcher.system import live_worker_pids
from services.launcher.system import wait_registered as wait_workers_registered

ROOT = Path(__file__).resolve().parents[2]

ServiceProcess = ChildProcess
"""One started service: `name`, `process` (the Popen), `log_path`, `log()`, `stop()`, `kill()`."""

__all__ = [
    "ROOT",
    "Processes",
    "ServiceProcess",
    "free_port",
    "free_ports",
    "live_worker_pids",
    "wait_healthy",
    "wait_registered",
]


def free_ports(count: int) -> list[int]:
    """`count` different free ports. (Two calls of `free_port` may return the same port: the
    first socket is closed before the second asks, so both may be given the same one.)"""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


@dataclass
class Processes:
    log_dir: Path
    running: list[ServiceProcess] = field(default_factory=list)

    def start(self, name: str, module: str, env: Mapping[str, str], *args: str) -> ServiceProcess:
        """`python -m module args` with `env` over our environment, output in `<name>.log`."""
        service = ChildProcess.python_module(
            name, module, {**os.environ, **env}, *args,
            log_path=self.log_dir / f"{name}.log", cwd=ROOT,
        )  # fmt: skip
        self.running.append(service)
        return service

    def stop_all(self) -> None:
        for service in reversed(self.running):
            service.stop()
        self.running.clear()


def wait_healthy(url: str, service: ServiceProcess, timeout_s: float = 60) -> None:
    """Until `url` answers 200; raises, with the service's log, if it exits or times out."""
    try:
        wait_until_healthy(
            url, what=service.name, timeout_s=timeout_s, check_alive=service.raise_if_exited
        )
    except LaunchError as exc:
        if service.process.poll() is None:  # timed out: show what it was doing
            raise LaunchError(f"{exc}\n{service.log()}") from None
        raise


def wait_registered(redis_url: str, worker: ServiceProcess, timeout_s: float = 120) -> None:
    """Until the worker process is in the registry of live workers: gateways refuse turns while
    no worker is live, and a worker takes seconds to import and connect on a busy machine."""
    wait_workers_registered(redis_url, [worker], timeout_s=timeout_s)
