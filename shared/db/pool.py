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
    )
