"""PostgreSQL and Redis: where every process keeps and exchanges its state.

Each setting is declared once, here; `docs/configuration.md` and `.env.example` follow from it
(`python -m shared.settings`).
"""

from __future__ import annotations

from shared.db.dsn import PoolerMode, pooler_mode
from shared.settings.declaration import required, setting, settings_group
from shared.settings.parsers import Choice, Integer, PostgresUrl, Url
from shared.settings.redaction import Redacted


@settings_group
class DatabaseSettings(Redacted):
    """PostgreSQL."""

    url: str = required(
        "DATABASE_URL",
        PostgresUrl(),
        doc="PostgreSQL DSN",
        hint="a PostgreSQL DSN such as postgresql://postgres@127.0.0.1:5432/taskchat",
        example="postgresql://taskchat:taskchat@127.0.0.1:5432/taskchat",
        url=True,
    )
    pool_min_size: int = setting(
        "DATABASE_POOL_MIN", Integer(), default=1, doc="connections each process opens at start-up"
    )
    pool_max_size: int = setting(
        "DATABASE_POOL_MAX",
        Integer(minimum=1),
        default=10,
        doc="upper bound on connections per process",
    )
    pooler: str = setting(
        "DATABASE_POOLER",
        Choice("auto", "none", "transaction"),
        default="auto",
        doc="`transaction` when `DATABASE_URL` goes through a transaction-mode pooler (PgBouncer, "
        "Neon's pooled URL): asyncpg's statement cache is then off; `auto` means `transaction` "
        "for a Neon `-pooler` host, else `none` (see docs/deployment-postgres.md)",
    )
    migration_url: str | None = setting(
        "MIGRATION_DATABASE_URL",
        PostgresUrl(),
        default=None,
        doc="a direct connection as the tables' owner, for migrations (and granting the "
        "services' role); lets `DATABASE_URL` be a role that owns nothing",
        shown_default="`DATABASE_URL`",
        url=True,
    )

    @property
    def resolved_pooler(self) -> PoolerMode:
        """`DATABASE_POOLER` with `auto` decided by the URL."""
        return pooler_mode(self.pooler, self.url)


@settings_group
class RedisSettings(Redacted):
    """Redis: the queue, the event logs, quotas, locks and the worker registry."""

    url: str = required(
        "REDIS_URL",
        Url("redis", "rediss", "unix"),
        doc="`redis://host:port/db`",
        hint="e.g. redis://127.0.0.1:6379/0",
        example="redis://127.0.0.1:6379/0",
        url=True,
    )
