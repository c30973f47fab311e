"""Integration fixtures: a migrated pool on the session's throw-away database, emptied per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.db.migrations import apply_migrations
from shared.db.pool import DbPool, create_pool
from shared.settings import DatabaseSettings


@pytest.fixture
async def db_pool(database_url: str) -> AsyncIterator[DbPool]:
    """A pool on the migrated test database with every table empty and identities restarted."""
    pool = await create_pool(DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=5))
    try:
        await apply_migrations(pool)
        # Every application table, so tables added by later migrations are emptied too.
        tables = await pool.fetch(
            "SELECT quote_ident(tablename) AS name FROM pg_tables"
            " WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
        )
        if tables:
            names = ", ".join(row["name"] for row in tables)
            await pool.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        yield pool
    finally:
        await pool.close()
