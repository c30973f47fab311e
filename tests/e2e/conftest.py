"""The whole system as separate processes: emulator, gateway and agent workers."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from services.gateway.auth.tokens import issue_token
from tests.conftest import Backends
from tests.e2e.processes import (
    Processes,
    ServiceProcess,
    free_ports,
    wait_healthy,
    wait_registered,
)

# Each system gets its own database of the session's Redis server, so a worker of one system (two
# may be up at once within a test module) never takes another system's turns. Database 15 is the
# integration tests'.
_REDIS_DBS = itertools.cycle(range(1, 15))
JWT_SECRET = "e2e-secret-that-is-long-enough-for-hs256"
FRONTEND_ORIGIN = "http://chat.test"
"""The one origin whose cookie-authenticated requests the e2e gateways accept."""


@dataclass
class System:
    gateway_url: str
    emulator_url: str
    env: dict[str, str]
    processes: Processes

    def token(self, user_id: str) -> str:
        return issue_token(JWT_SECRET, user_id)

    def start_worker(self, name: str, *, timeout_s: float = 120) -> ServiceProcess:
        """Start a worker and wait until it is in the registry of live workers (gateways refuse
        turns while no worker is live)."""
        worker = self.processes.start(name, "services.agent", self.env)
        wait_registered(self.env["REDIS_URL"], worker, timeout_s)
        return worker

    def service(self, name: str) -> ServiceProcess:
        return next(s for s in self.processes.running if s.name == name)


def start_system(
    backends: Backends, log_dir: Path, *, workers: int = 1, extra_env: Mapping[str, str] = {}
) -> System:
    redis_url = backends.redis_url(next(_REDIS_DBS))
    redis.Redis.from_url(redis_url).flushdb()
    processes = Processes(log_dir)
    emulator_port, gateway_port = free_ports(2)
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
        "ALLOWED_ORIGINS": FRONTEND_ORIGIN,
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
