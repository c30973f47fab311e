"""The whole system as separate processes: emulator, gateway and agent workers."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest
import redis

from services.gateway.auth.tokens import issue_token
from shared.workers.registry import WORKERS, WorkerStatus, worker_status_key
from tests.conftest import Backends
from tests.e2e.processes import Processes, ServiceProcess, free_port, wait_healthy

# Each system gets its own database of the session's Redis server, so a worker of one system (two
# may be up at once within a test module) never takes another system's turns. Database 15 is the
# integration tests'.
_REDIS_DBS = itertools.cycle(range(1, 15))
JWT_SECRET = "e2e-secret-that-is-long-enough-for-hs256"


@dataclass
class System:
    gateway_url: str
    emulator_url: str
    env: dict[str, str]
    processes: Processes

    def token(self, user_id: str) -> str:
        return issue_token(JWT_SECRET, user_id)

    def start_worker(self, name: str) -> ServiceProcess:
        """Start a worker and return once it is in the registry of live workers: a test's next
        turn must not race the worker's start-up (seconds of imports on a busy machine)."""
        worker = self.processes.start(name, "services.agent", self.env)
        wait_registered(self.env["REDIS_URL"], worker)
        return worker

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.processes.running if s.name == name)


def start_system(
    backends: Backends, log_dir: Path, *, workers: int = 1, extra_env: Mapping[str, str] = {}
) -> System:
    redis_url = backends.redis_url(next(_REDIS_DBS))
    redis.Redis.from_url(redis_url).flushdb()
    processes = Processes(log_dir)
    emulator_port, gateway_port = free_port(), free_port()
    emulator_url = f"http://127.0.0.1:{emulator_port}"
    env = {
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": "emulator",
        "GEMINI_BASE_URL": f"{emulator_url}/v1beta/openai/",
        "JWT_SECRET": JWT_SECRET,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(gateway_port),
        "TURN_HEARTBEAT_S": "0.5",
        "TURN_START_TIMEOUT_S": "10",
        "LOG_LEVEL": "INFO",
        **extra_env,
    }
    system = System(f"http://127.0.0.1:{gateway_port}", emulator_url, env, processes)
    try:
        emulator = processes.start(
            "emulator", "services.gemini_emulator", env, "--port", str(emulator_port)
        )
        wait_healthy(f"{emulator_url}/healthz", emulator)
        gateway = processes.start("gateway", "services.gateway", env)
        wait_healthy(f"{system.gateway_url}/healthz", gateway)
        for number in range(1, workers + 1):
            system.start_worker(f"worker-{number}")
    except BaseException:
        processes.stop_all()
        raise
    return system


def wait_registered(redis_url: str, worker: ServiceProcess, timeout_s: float = 90) -> None:
    """Wait until the worker process has announced itself (its first heartbeat)."""
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if worker.process.poll() is not None:
                raise RuntimeError(f"{worker.name} exited early:\n{worker.log()}")
            ids: list[bytes] = client.zrange(WORKERS, 0, -1)  # type: ignore[assignment]
            raw: list[bytes | None] = (
                client.mget([worker_status_key(i.decode()) for i in ids]) if ids else []  # type: ignore[assignment]
            )
            pids = {msgspec.json.decode(r, type=WorkerStatus).pid for r in raw if r is not None}
            if worker.process.pid in pids:
                return
            time.sleep(0.1)
    finally:
        client.close()
    raise RuntimeError(f"{worker.name} not registered after {timeout_s}s:\n{worker.log()}")


@contextmanager
def running_system(
    backends: Backends,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    extra_env: Mapping[str, str] = {},
) -> Iterator[System]:
    """A started system, stopped when the block ends (logs under `<tmp>/<name>-logs`)."""
    log_dir = tmp_path_factory.mktemp(f"{name}-logs")
    system = start_system(backends, log_dir, extra_env=extra_env)
    try:
        yield system
    finally:
        system.processes.stop_all()


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(backends, tmp_path_factory, "e2e") as running:
        yield running
