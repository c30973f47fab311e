"""Connection pool factory.

No codecs are registered: `jsonb` travels as text, and each repository serialises its own values
(pydantic / msgspec), so every user of the pool sees the same, predictable wire types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import asyncpg

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
        settings.url,
        min_size=min(settings.pool_min_size, settings.pool_max_size),
        max_size=settings.pool_max_size,
        reset=_nothing_to_reset,
    )


async def _nothing_to_reset(conn: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a released connection needs beyond asyncpg's own rollback of an open transaction:
    nothing. asyncpg's default reset is one more round trip per query (`pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`), undoing what TaskChat never leaves behind: its settings
    (role, user scope) are transaction-local, it holds no cursors or listeners, and the one
    advisory lock (migrations) is released where it is taken."""
