"""What the user-scoped transaction (row-level security) costs one store read.

`python -m tests.bench.rls_overhead` loads one thread by id 2,000 times on a throw-away database:
once as a bare query on the pool (as before migration 0005), once through `PostgresStore`, whose
every query runs in a transaction that sets the role and the user first. `--through-pgbouncer`
does the same through a PgBouncer of its own in transaction mode, with the statement cache off
(`DATABASE_POOLER=transaction`), as behind Neon's pooled URL.

Environment: TEST_DATABASE_URL (admin DSN, default local trust auth).
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime

from chatkit.types import ThreadMetadata

from services.loadgen.stats import percentiles
from shared.db.dsn import PoolerMode
from shared.db.migrations import apply_migrations
from shared.db.pool import create_pool
from shared.request_context import RequestContext
from shared.settings import DatabaseSettings
from shared.store.postgres_store import PostgresStore
from tests.pgbouncer import database_name, running_pgbouncer
from tests.scratch_database import scratch_database

READS = 2000


def summary(name: str, values_ms: list[float]) -> str:
    measured = percentiles(values_ms)
    assert measured is not None
    return f"{name:<44} n={measured.n} p50={measured.p50:.2f} ms  p95={measured.p95:.2f} ms"


async def measure(database_url: str, pooler: PoolerMode = "none") -> None:
    pool = await create_pool(
        DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=1, pooler=pooler)
    )
    try:
        await apply_migrations(pool)
        store = PostgresStore(pool)
        context = RequestContext(user_id="bench")
        thread = ThreadMetadata(id="thr_bench", created_at=datetime.now())
        await store.save_thread(thread, context)
        bare: list[float] = []
        scoped: list[float] = []
        for _ in range(READS):
            started = time.perf_counter()
            await pool.fetchval(
                "SELECT data FROM threads WHERE id = $1 AND user_id = $2", thread.id, "bench"
            )
            bare.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await store.load_thread(thread.id, context)
            scoped.append((time.perf_counter() - started) * 1000)
        print(summary("load_thread, bare query", bare))
        print(summary("load_thread, user-scoped transaction (RLS)", scoped))
    finally:
        await pool.close()


def main() -> None:
    through_pgbouncer = "--through-pgbouncer" in sys.argv[1:]
    with scratch_database("taskchat_bench") as url:
        if not through_pgbouncer:
            asyncio.run(measure(url))
            return
        with running_pgbouncer(["postgres"], pool_size=1, tls=False) as bouncer:
            pooled = bouncer.url(database_name(url), "postgres", query="")
            asyncio.run(measure(pooled, "transaction"))


if __name__ == "__main__":
    main()
