"""A throw-away TaskChat for one benchmark scenario, as real processes on this machine.

`bench_backends` starts an embedded PostgreSQL and Redis (the same ones `taskchat dev` uses) in a
temporary directory, so a benchmark never touches the machine's own databases; `started_system`
then gives each scenario a fresh database, an empty Redis, an emulator paced as asked, and either
the gateway with its workers or the single-process baseline.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import asyncpg
import redis

from bench.anchor import start_anchor
from services.gateway.auth.tokens import issue_token
from services.launcher.embedded_postgres import EmbeddedPostgres
from services.launcher.embedded_redis import EmbeddedRedis
from services.launcher.net import free_port
from services.launcher.system import SystemProcesses, start_system
from services.launcher.system import SystemSpec as LaunchSpec

LOCALHOST = "127.0.0.1"
JWT_SECRET = "taskchat-benchmark-secret-of-32-bytes-or-more"
STARTUP_TIMEOUT_S = 90.0
UNLIMITED = "1000000000"

BENCH_ENV = {
    "JWT_SECRET": JWT_SECRET,
    # Simulated users send many turns, some at once: the per-user limits would refuse them.
    "DAILY_MESSAGE_QUOTA": UNLIMITED,
    "MAX_CONCURRENT_STREAMS": UNLIMITED,
    "MAX_QUEUE_DEPTH": UNLIMITED,
    "LOG_LEVEL": "WARNING",
    "DATABASE_POOL_MAX": "20",
    "PYTHONUNBUFFERED": "1",
}
"""Settings every benchmark system runs with (a scenario's `SystemSpec.env` comes on top)."""


Arrangement = Literal["split", "single", "anchor"]
"""The gateway with its workers; `services.single_process` (TaskChat's gateway and agent in one
process, no queue); or the samples-shaped single-process anchor (`bench/anchor.py`)."""


@dataclass(frozen=True)
class SystemSpec:
    workers: int = 2
    """Agent worker processes (of the split only)."""
    arrangement: Arrangement = "split"
    first_token_ms: int = 0
    """The emulator's time to first token (0: none)."""
    tokens_per_s: float = 0
    """The emulator's streaming rate (0: unpaced)."""
    tokens_per_chunk: int = 1
    """Words per streamed chunk."""
    worker_max_turns: int | None = None
    """`WORKER_MAX_TURNS` (None: the default)."""
    env: Mapping[str, str] = field(default_factory=dict)
    """More settings for the app processes."""


@dataclass
class Backends:
    admin_database_url: str
    redis_url: str
    pids: dict[str, int]
    postgres_log: Path
    """The PostgreSQL server's log (statements are counted there when logged)."""


@dataclass
class RunningSystem:
    url: str
    """The gateway's (or the single-process app's) base URL."""
    jwt_secret: str
    database_url: str
    redis_url: str
    emulator_url: str
    """The emulator's OpenAI-compatible base URL (…/v1beta/openai/)."""
    pids: dict[str, int]
    """"gateway", "worker-1"…, "single" or "anchor"; "emulator", "postgres", "redis"."""
    log_dir: Path

    def token(self, user_id: str) -> str:
        return issue_token(self.jwt_secret, user_id)


@contextmanager
def bench_backends(state_dir: Path | None = None) -> Iterator[Backends]:
    with ExitStack() as stack:
        if state_dir is None:
            state_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        state_dir.chmod(0o755)  # when run as root, PostgreSQL's own user must reach its data
        postgres = EmbeddedPostgres(state_dir / "postgres", free_port(LOCALHOST), host=LOCALHOST)
        stack.callback(postgres.stop)
        postgres.start()
        redis_server = EmbeddedRedis(state_dir / "redis", free_port(LOCALHOST), host=LOCALHOST)
        stack.callback(redis_server.stop)
        redis_server.start()
        yield Backends(
            admin_database_url=postgres.url("postgres"),
            redis_url=redis_server.url(),
            pids={
                "postgres": _first_line_int(postgres.data_dir / "postmaster.pid"),
                "redis": _first_line_int(redis_server.pid_file),
            },
            postgres_log=postgres.log_file,
        )


@contextmanager
def started_system(spec: SystemSpec, backends: Backends) -> Iterator[RunningSystem]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    database_url = _create_database(backends.admin_database_url, name)
    redis.Redis.from_url(backends.redis_url).flushall()
    with tempfile.TemporaryDirectory(prefix="bench-logs-") as logs:
        env = {
            **os.environ,
            **BENCH_ENV,
            "DATABASE_URL": database_url,
            "REDIS_URL": backends.redis_url,
            "GEMINI_API_KEY": "",  # the launcher starts the emulator, paced as asked
            "GATEWAY_HOST": LOCALHOST,
            **({"WORKER_MAX_TURNS": str(spec.worker_max_turns)} if spec.worker_max_turns else {}),
            **spec.env,
        }
        system = SystemProcesses(env, log_dir=Path(logs))
        try:
            launch = LaunchSpec(
                workers=spec.workers,
                single_process=spec.arrangement == "single",
                emulator_args=_emulator_args(spec),
                startup_timeout_s=STARTUP_TIMEOUT_S,
            )
            if spec.arrangement == "anchor":
                start_anchor(system, launch, Path(logs))
            else:
                start_system(system, launch)
            yield RunningSystem(
                url=system.gateway_url,
                jwt_secret=JWT_SECRET,
                database_url=database_url,
                redis_url=backends.redis_url,
                emulator_url=system.env["GEMINI_BASE_URL"],
                pids={**system.pids(), **backends.pids},
                log_dir=Path(logs),
            )
        finally:
            system.stop(grace_s=20)
            _report_problems(Path(logs))
            _drop_database(backends.admin_database_url, name)


def _emulator_args(spec: SystemSpec) -> list[str]:
    args = ["--log-level", "warning"]
    if spec.first_token_ms:
        args += ["--first-token-delay-ms", str(spec.first_token_ms)]
    if spec.tokens_per_s:
        args += ["--tokens-per-s", str(spec.tokens_per_s)]
    return [*args, "--tokens-per-chunk", str(spec.tokens_per_chunk)]


def _report_problems(logs: Path) -> None:
    """Say which processes logged errors (the logs go with the temporary directory)."""
    for log in sorted(logs.glob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        problems = [line for line in lines if "Traceback" in line or '"level": "ERROR"' in line
                    or " ERROR " in line or "Task exception" in line]  # fmt: skip
        if problems:
            print(f"   {log.stem}: {len(problems)} error lines, first: {problems[0][:200]}",
                  file=sys.stderr)  # fmt: skip


def _first_line_int(path: Path) -> int:
    return int(path.read_text().split()[0])


def _create_database(admin_url: str, name: str) -> str:
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return f"{admin_url.rpartition('/')[0]}/{name}"


def _drop_database(admin_url: str, name: str) -> None:
    asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
