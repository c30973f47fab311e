"""Starting the real services as child processes for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import msgspec
import redis

from shared.workers.registry import WORKERS, WorkerStatus, worker_status_key

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_ports(count: int) -> list[int]:
    """`count` different free ports. (Two calls of `free_port` may return the same port: the
    first socket is closed before the second asks, so both may be given the same one.)"""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in socks]


@dataclass
class ServiceProcess:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout_s: float = 15) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


@dataclass
class Processes:
    log_dir: Path
    running: list[ServiceProcess] = field(default_factory=list)

    def start(self, name: str, module: str, env: Mapping[str, str], *args: str) -> ServiceProcess:
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("wb") as log_file:  # the child keeps its own copy of the descriptor
            process = subprocess.Popen(
                [sys.executable, "-m", module, *args],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        service = ServiceProcess(name, process, log_path)
        self.running.append(service)
        return service

    def stop_all(self) -> None:
        for service in reversed(self.running):
            service.stop()
        self.running.clear()


def wait_healthy(url: str, service: ServiceProcess, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited early:\n{service.log()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{service.name} not healthy after {timeout_s}s:\n{service.log()}")


def wait_registered(redis_url: str, worker: ServiceProcess, timeout_s: float = 120) -> None:
    """Until the worker process is in the registry of live workers: gateways refuse turns while
    no worker is live, and a worker takes seconds to import and connect on a busy machine."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout_s
    try:
        while worker.process.pid not in _live_worker_pids(client):
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{worker.name} did not start:\n{worker.log()}")
            time.sleep(0.05)
    finally:
        client.close()


def _live_worker_pids(client: redis.Redis) -> set[int]:
    ids: list[bytes] = client.zrange(WORKERS, 0, -1)  # type: ignore[assignment]
    if not ids:
        return set()
    raw: list[bytes | None] = client.mget([worker_status_key(i.decode()) for i in ids])  # type: ignore[assignment]
    return {msgspec.json.decode(r, type=WorkerStatus).pid for r in raw if r is not None}
