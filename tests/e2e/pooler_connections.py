"""Measure the PostgreSQL connections a running system holds, through PgBouncer (transaction mode):
the figures of docs/deployment-postgres.md#connection-budget.

    .venv/bin/python -m tests.e2e.pooler_connections --workers 2 --turns 30

Starts a throw-away database, Redis, PgBouncer (pool of 20 per role) and the system (one gateway,
`--workers` workers) as the e2e tests do; sends `--turns` turns at once; samples `/metrics` and
PgBouncer's `SHOW POOLS` while they run and afterwards; prints what it saw.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from services.chatkit_client.client import ChatKitClient
from services.launcher.embedded_redis import EmbeddedRedis
from services.launcher.net import free_port
from tests.conftest import Backends
from tests.db_roles import OWNER_ROLE, SERVICE_ROLE, ensure_login_roles
from tests.e2e.conftest import System, start_system
from tests.e2e.pooled_system import gauges, owned_database, pooled_env
from tests.pgbouncer import PgBouncer, database_name, running_pgbouncer

SERVER_POOL = 20


def sample(system: System, bouncer: PgBouncer, database: str) -> dict[str, float]:
    seen = gauges(system.gateway_url)
    pool = bouncer.pools()[(database, SERVICE_ROLE)]
    servers = sum(
        int(pool[c]) for c in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
    )
    return {
        "gateway": seen["taskchat_db_connections"],
        "workers": seen["taskchat_workers_db_connections"],
        "pooler clients": int(pool["cl_active"]) + int(pool["cl_waiting"]),
        "postgres (server) connections": servers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--turns", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(ensure_login_roles())
    with tempfile.TemporaryDirectory() as scratch, owned_database("taskchat_measure") as url:
        redis = EmbeddedRedis(Path(scratch) / "redis", free_port("127.0.0.1"))
        redis.start()
        users = [OWNER_ROLE, SERVICE_ROLE]
        with running_pgbouncer(users, pool_size=SERVER_POOL) as bouncer:
            backends = Backends(url, redis.url().rpartition("/")[0])
            env = {**pooled_env(bouncer, url), "MAX_CONCURRENT_STREAMS": "100"}
            logs = Path(scratch) / "logs"
            logs.mkdir()
            system = start_system(backends, logs, workers=args.workers, extra_env=env)
            database = database_name(url)
            try:
                time.sleep(2)  # a heartbeat or two
                print("idle after start-up:", sample(system, bouncer, database))
                peaks: dict[str, float] = {}
                done = threading.Event()

                def watch() -> None:
                    while not done.is_set():
                        for name, value in sample(system, bouncer, database).items():
                            peaks[name] = max(peaks.get(name, 0), value)
                        time.sleep(0.2)

                def turn(number: int) -> bool:
                    """True when the turn streamed an answer without an error event."""
                    user = f"load-{number}-{uuid.uuid4().hex[:6]}"
                    client = ChatKitClient(system.gateway_url, system.token(user), timeout_s=120)
                    try:
                        streamed = client.create_thread(f"add task number {number}")
                        return streamed.status_code == 200 and not streamed.of_type("error")
                    finally:
                        client.close()

                watcher = threading.Thread(target=watch)
                watcher.start()
                with ThreadPoolExecutor(args.turns) as pool:
                    answered = sum(pool.map(turn, range(args.turns)))
                done.set()
                watcher.join()
                print(f"turns answered without an error: {answered} of {args.turns}")
                print(f"peak during {args.turns} concurrent turns:", peaks)
                time.sleep(2)
                print("after the turns:", sample(system, bouncer, database))
            finally:
                system.processes.stop_all()
                redis.stop()


if __name__ == "__main__":
    main()
