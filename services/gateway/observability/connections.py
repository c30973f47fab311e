"""PostgreSQL connections held, for the connection budget (docs/deployment-postgres.md).

Each gateway reports its own pool; every gateway also reports the sum over the live workers,
read from their heartbeats. Cluster total = sum over gateways of `taskchat_db_connections` +
max over gateways of `taskchat_workers_db_connections`.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Gauge

from shared.db.pool import DbPool
from shared.workers.registry import WorkerStatus

DB_CONNECTIONS = Gauge(
    "taskchat_db_connections",
    "PostgreSQL connections this gateway's pool holds open now (busy or idle).",
)
DB_CONNECTIONS_IDLE = Gauge(
    "taskchat_db_connections_idle", "Of those, idle in the pool (not lent to a request)."
)
DB_POOL_MAX = Gauge(
    "taskchat_db_pool_max", "The most connections this gateway's pool may open (DATABASE_POOL_MAX)."
)
WORKERS_DB_CONNECTIONS = Gauge(
    "taskchat_workers_db_connections",
    "PostgreSQL connections the live workers' pools hold open, summed (from their heartbeats).",
)
WORKERS_DB_POOL_MAX = Gauge(
    "taskchat_workers_db_pool_max",
    "The most connections the live workers' pools may open, summed.",
)


def refresh_own_pool(pool: DbPool) -> None:
    DB_CONNECTIONS.set(pool.get_size())
    DB_CONNECTIONS_IDLE.set(pool.get_idle_size())
    DB_POOL_MAX.set(pool.get_max_size())


def refresh_workers(workers: Sequence[WorkerStatus]) -> None:
    WORKERS_DB_CONNECTIONS.set(sum(w.db_connections for w in workers))
    WORKERS_DB_POOL_MAX.set(sum(w.db_pool_max for w in workers))
