"""The whole system as separate processes: emulator, gateway and agent workers."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from services.gateway.auth.tokens import issue_token
from services.launcher.system import SystemProcesses, SystemSpec
from services.launcher.system import start_system as launch
from tests.conftest import Backends
from tests.e2e.processes import ROOT, Processes, ServiceProcess, free_port, wait_registered

# Each system gets its own database of the session's Redis server, so a worker of one system (two
# may be up at once within a test module) never takes another system's turns. Database 1 is the
# shared session system's, 15 the integration tests'.
_SHARED_REDIS_DB = 1
_REDIS_DBS = itertools.cycle(range(2, 15))
JWT_SECRET = "e2e-secret-that-is-long-enough-for-hs256"
FRONTEND_ORIGIN = "http://chat.test"
"""The one origin whose cookie-authenticated requests the e2e gateways accept."""
STARTUP_TIMEOUT_S = 120.0  # a busy machine: imports and connections take seconds per process


@dataclass
class System:
    gateway_url: str
    emulator_url: str
    env: dict[str, str]
    """The app processes' environment (over ours): URLs, ports, secrets, the test's settings."""
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
    backends: Backends,
    log_dir: Path,
    *,
    workers: int = 1,
    extra_env: Mapping[str, str] = {},
    redis_db: int | None = None,
) -> System:
    """A whole system (emulator, migrations, gateway, `workers` workers) by the launcher that
    `taskchat dev` and the benchmarks use; ready when it returns."""
    redis_url = backends.redis_url(next(_REDIS_DBS) if redis_db is None else redis_db)
    redis.Redis.from_url(redis_url).flushdb()
    env = {
        "DATABASE_URL": backends.database_url,
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": "",  # none: the launcher starts an emulator and points the model at it
        "JWT_SECRET": JWT_SECRET,
        "GATEWAY_HOST": "127.0.0.1",
        "GATEWAY_PORT": str(free_port()),
        "TURN_HEARTBEAT_S": "0.5",
        "TURN_START_TIMEOUT_S": "10",
        "LOG_LEVEL": "INFO",
        "ALLOWED_ORIGINS": FRONTEND_ORIGIN,
        **extra_env,
    }
    processes = Processes(log_dir)
    launched = SystemProcesses(
        {**os.environ, **env}, log_dir=log_dir, cwd=ROOT, children=processes.running
    )
    try:
        # No separate migration step: the gateway and workers migrate as they start (under an
        # advisory lock), and a process less per system is time saved on a busy machine.
        spec = SystemSpec(workers=workers, migrate=False, startup_timeout_s=STARTUP_TIMEOUT_S)
        launch(launched, spec)
    except BaseException:
        processes.stop_all()
        raise
    assert launched.emulator_url is not None
    env.update(
        {key: launched.env[key] for key in ("GEMINI_API_KEY", "GEMINI_BASE_URL", "GATEWAY_PORT")}
    )
    return System(launched.gateway_url, launched.emulator_url, env, processes)


@contextmanager
def running_system(
    backends: Backends,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    extra_env: Mapping[str, str] = {},
) -> Iterator[System]:
    """A started system of this test's own, stopped when the block ends (logs under
    `<tmp>/<name>-logs`). Tests that need no settings of their own use `system` instead."""
    log_dir = tmp_path_factory.mktemp(f"{name}-logs")
    system = start_system(backends, log_dir, extra_env=extra_env)
    try:
        yield system
    finally:
        system.processes.stop_all()


@pytest.fixture(scope="session")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """The system most tests share, with the default settings: started once per session.

    Tests that use it make users of their own (unique ids) and leave its processes running; a
    test that needs other settings, or stops or kills a process, starts its own system with
    `running_system`.
    """
    system = start_system(backends, tmp_path_factory.mktemp("e2e-logs"), redis_db=_SHARED_REDIS_DB)
    try:
        yield system
    finally:
        system.processes.stop_all()
