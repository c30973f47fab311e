"""Connection pool factory.

No codecs are registered: `jsonb` travels as text, and each repository serialises its own values
(pydantic / msgspec), so every user of the pool sees the same, predictable wire types.
"""

from __future__ import annotations

from typing import TypeAlias

import asyncpg

from shared.settings import DatabaseSettings

# asyncpg's `Pool` is only generic in its stubs, so the alias is a string (never evaluated).
DbPool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"


async def create_pool(settings: DatabaseSettings) -> DbPool:
    """Open a pool sized by `settings`; the caller owns it and must `await pool.close()`."""
    return await asyncpg.create_pool(
        settings.url,
        min_size=min(settings.pool_min_size, settings.pool_max_size),
        max_size=settings.pool_max_size,
    )
