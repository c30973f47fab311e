"""Connection pool factory.

No codecs are registered: `jsonb` travels as text, and each repository serialises its own values
(pydantic / msgspec), so every user of the pool sees the same, predictable wire types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import asyncpg

from shared.db.dsn import PoolerMode, asyncpg_dsn
from shared.settings import DatabaseSettings

# asyncpg's `Pool` is generic only in its stubs. Frameworks that resolve annotations at run time
# (Litestar's DI does) need a real class there, so the runtime alias is the plain class.
if TYPE_CHECKING:
    DbPool: TypeAlias = asyncpg.Pool[asyncpg.Record]
else:
    DbPool = asyncpg.Pool


async def create_pool(settings: DatabaseSettings) -> DbPool:
    """Open a pool sized by `settings`; the caller owns it and must `await pool.close()`."""
    return await asyncpg.create_pool(
        asyncpg_dsn(settings.url),
        min_size=min(settings.pool_min_size, settings.pool_max_size),
        max_size=settings.pool_max_size,
        reset=_nothing_to_reset,
        statement_cache_size=statement_cache_size(settings.resolved_pooler),
    )


async def create_owner_pool(url: str) -> DbPool:
    """One connection as the tables' owner (`MIGRATION_DATABASE_URL`), for migrating. Its few
    statements need no cache, and without one it works through a transaction pooler too."""
    return await asyncpg.create_pool(
        asyncpg_dsn(url), min_size=1, max_size=1, reset=_nothing_to_reset, statement_cache_size=0
    )


def statement_cache_size(pooler: PoolerMode) -> int:
    """asyncpg's per-connection cache of named prepared statements: 100 is its default. A
    transaction pooler hands each transaction whichever server connection is free, where a
    statement prepared on another is unknown, or one of the same name already exists
    (`DuplicatePreparedStatementError` on PgBouncer < 1.21). With the cache off asyncpg prepares
    unnamed statements, which live only until the next one on the same server connection."""
    return 0 if pooler == "transaction" else 100


async def _nothing_to_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a released connection needs beyond asyncpg's own rollback of an open transaction:
    nothing. asyncpg's default reset is one more round trip per query (`pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`), undoing what TaskChat never leaves behind: its settings
    (role, user scope) are transaction-local, it holds no cursors or listeners, and the one
    advisory lock (migrations) is transaction-level. Behind a transaction pooler this is also the
    only correct choice: a session reset would run on whichever server connection is free."""
