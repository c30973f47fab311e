"""PostgreSQL and Redis: where every process keeps and exchanges its state.

Each setting is declared once, here; `docs/configuration.md` and `.env.example` follow from it
(`python -m shared.settings`).
"""

from __future__ import annotations

from shared.settings.declaration import required, setting, settings_group
from shared.settings.parsers import Integer, Url
from shared.settings.redaction import Redacted


@settings_group
class DatabaseSettings(Redacted):
    """PostgreSQL."""

    url: str = required(
        "DATABASE_URL",
        Url("postgresql", "postgres"),
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
