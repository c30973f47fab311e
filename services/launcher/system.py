"""One whole TaskChat as processes on this machine, started in order and ready when it returns.

The order is the order of dependence: the Gemini emulator (only when no model is configured),
the migrations (`taskchat migrate`, as deployments run it), then the gateway (or the
single-process app) and N agent workers. Ready means the gateway answers `/healthz` and every
worker is in the registry of live workers (gateways refuse turns while none is). PostgreSQL and
Redis are the caller's: URLs in the environment, or the embedded servers of this package.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import redis

from services.launcher.errors import LaunchError
from services.launcher.net import free_port, port_is_free, wait_until_healthy
from services.launcher.processes import ChildProcess, stop_all
from shared.workers.registry import WORKERS, WorkerStatus, worker_status_key

LOCALHOST = "127.0.0.1"
EMULATOR_API_KEY = "emulator"
"""The `GEMINI_API_KEY` a system talking to the emulator runs with (the emulator takes any)."""


@dataclass(frozen=True, slots=True)
class SystemSpec:
    """What to start; settings come from the environment given to `start_system`."""

    workers: int = 1
    """Agent worker processes (none when `single_process`)."""
    single_process: bool = False
    """`services.single_process` (gateway and agent in one process, no queue) instead."""
    emulator_args: Sequence[str] = ()
    """More `python -m services.gemini_emulator` arguments (pacing, log level)."""
    migrate: bool = True
    startup_timeout_s: float = 60.0


class SystemProcesses:
    """The processes of one system, and how to reach it once started.

    Register `stop` for clean-up before calling `start_system`: whatever has started by the
    time something fails (or Ctrl-C comes) is then stopped too.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        log_dir: Path | None = None,
        cwd: Path | None = None,
        children: list[ChildProcess] | None = None,
    ) -> None:
        self.env = dict(env)
        """The app processes' whole environment, completed by `start_system` (URLs, ports)."""
        self.log_dir = log_dir
        """One `<name>.log` per process; None: they write to our terminal."""
        self.cwd = cwd
        self.children: list[ChildProcess] = children if children is not None else []
        self.gateway_url = ""
        self.emulator_url: str | None = None
        """The emulator's base URL (without `/v1beta/openai/`) when this system started one."""

    def start(
        self, name: str, module: str, *args: str, env: Mapping[str, str] | None = None
    ) -> ChildProcess:
        """Start `python -m module args` as one of this system's processes."""
        log_path = self.log_dir / f"{name}.log" if self.log_dir is not None else None
        child = ChildProcess.python_module(
            name, module, self.env if env is None else env, *args, log_path=log_path, cwd=self.cwd
        )
        self.children.append(child)
        return child

    def start_worker(self, name: str, *, timeout_s: float = 60.0) -> ChildProcess:
        """Start an agent worker and wait until it is in the registry of live workers."""
        worker = self.start(name, "services.agent")
        wait_registered(self.env["REDIS_URL"], [worker], timeout_s=timeout_s)
        return worker

    def service(self, name: str) -> ChildProcess:
        return next(child for child in self.children if child.name == name)

    def pids(self) -> dict[str, int]:
        return {child.name: child.pid for child in self.children}

    def check_alive(self) -> None:
        """Raise `LaunchError` naming the first process that has exited."""
        for child in self.children:
            child.raise_if_exited()

    def stop(self, *, grace_s: float = 40.0) -> None:
        """SIGTERM to all (they drain in parallel), SIGKILL to whoever outlives `grace_s`."""
        stop_all(self.children, grace_s=grace_s)
        self.children.clear()


def start_system(system: SystemProcesses, spec: SystemSpec) -> None:
    """Start everything `system.env` does not point elsewhere, and wait until it is ready."""
    env = system.env
    env.setdefault("PYTHONUNBUFFERED", "1")  # logs as they happen, in files or the terminal
    if not env.get("GEMINI_API_KEY"):
        start_emulator(system, spec)
    if spec.migrate:
        migrate(system)
    host = env.setdefault("GATEWAY_HOST", LOCALHOST)
    port = int(env.setdefault("GATEWAY_PORT", str(free_port(LOCALHOST))))
    if not port_is_free(host, port):
        raise LaunchError(f"port {port} on {host} is in use; set GATEWAY_PORT to another port")
    url_host = LOCALHOST if host in ("0.0.0.0", "::") else host
    system.gateway_url = f"http://{url_host}:{port}"
    if spec.single_process:
        system.start("single", "services.single_process")
        workers: list[ChildProcess] = []
    else:
        system.start("gateway", "services.gateway")
        workers = [
            system.start(f"worker-{number}", "services.agent")
            for number in range(1, spec.workers + 1)
        ]
    wait_until_healthy(
        f"{system.gateway_url}/healthz", what="the gateway", timeout_s=spec.startup_timeout_s,
        check_alive=system.check_alive,
    )  # fmt: skip
    wait_registered(
        env["REDIS_URL"], workers, timeout_s=spec.startup_timeout_s, check_alive=system.check_alive
    )


def start_emulator(system: SystemProcesses, spec: SystemSpec) -> None:
    """The Gemini emulator on a free port; points the system's model settings at it."""
    port = free_port(LOCALHOST)
    child = system.start(
        "emulator", "services.gemini_emulator",
        "--host", LOCALHOST, "--port", str(port), *spec.emulator_args,
    )  # fmt: skip
    base = f"http://{LOCALHOST}:{port}"
    wait_until_healthy(
        f"{base}/healthz", what="the Gemini emulator", timeout_s=spec.startup_timeout_s,
        check_alive=child.raise_if_exited,
    )  # fmt: skip
    system.emulator_url = base
    system.env["GEMINI_API_KEY"] = EMULATOR_API_KEY
    system.env["GEMINI_BASE_URL"] = f"{base}/v1beta/openai/"


def migrate(system: SystemProcesses) -> None:
    """`taskchat migrate`, the deployments' init step, as a process of its own."""
    log_path = system.log_dir / "migrate.log" if system.log_dir is not None else None
    migration = ChildProcess.python_module(
        "migrate", "services.cli", system.env, "migrate", log_path=log_path, cwd=system.cwd
    )
    try:
        code = migration.popen.wait()
    finally:
        stop_all([migration], grace_s=10)  # interrupted (Ctrl-C): do not leave it behind
    if code != 0:
        raise LaunchError(f"migrations failed (exit {code}){_log_hint(migration)}")


def wait_registered(
    redis_url: str,
    workers: Sequence[ChildProcess],
    *,
    timeout_s: float,
    check_alive: Callable[[], None] | None = None,
) -> None:
    """Until every worker process is in the registry of live workers."""
    if not workers:
        return
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            missing = [w for w in workers if w.pid not in live_worker_pids(client)]
            if not missing:
                return
            for worker in workers:
                worker.raise_if_exited()
            if check_alive is not None:
                check_alive()
            if time.monotonic() > deadline:
                names = ", ".join(w.name for w in missing)
                raise LaunchError(
                    f"{names} did not register as live within {timeout_s:.0f}s"
                    f"{_log_hint(missing[0])}"
                )
            time.sleep(0.05)
    finally:
        client.close()


def live_worker_pids(client: redis.Redis) -> set[int]:
    ids: list[bytes] = client.zrange(WORKERS, 0, -1)  # type: ignore[assignment]
    if not ids:
        return set()
    raw: list[bytes | None] = client.mget([worker_status_key(i.decode()) for i in ids])  # type: ignore[assignment]
    return {msgspec.json.decode(r, type=WorkerStatus).pid for r in raw if r is not None}


def _log_hint(child: ChildProcess) -> str:
    if child.log_path is None:
        return ""
    tail = "\n".join(child.log().splitlines()[-40:])
    return f"; its log ({child.log_path}):\n{tail}"
