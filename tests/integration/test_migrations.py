"""Migrations against a fresh database, including replicas starting at the same moment."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.db.migrations import MIGRATION_LOCK_KEY, apply_migrations, available_migrations
from shared.db.pool import DbPool, create_pool
from shared.settings import DatabaseSettings
from tests.scratch_database import MIGRATION_LOCKS_HELD

REPLICAS = 5


@pytest.fixture
async def fresh_database_url(database_url: str) -> AsyncIterator[str]:
    """An empty database of its own (the session database is already migrated by `db_pool`)."""
    name = f"taskchat_mig_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(database_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield database_url.rpartition("/")[0] + f"/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _pool(url: str) -> DbPool:
    return await create_pool(DatabaseSettings(url=url, pool_min_size=1, pool_max_size=1))


def test_migration_files_are_found_in_order() -> None:
    names = [m.name for m in available_migrations()]
    assert names[0] == "0001_initial.sql"
    assert names == sorted(names)


async def test_concurrent_replicas_apply_each_migration_once(fresh_database_url: str) -> None:
    # One pool per replica: separate connections, as separate processes would have.
    pools = [await _pool(fresh_database_url) for _ in range(REPLICAS)]
    try:
        results = await asyncio.gather(*(apply_migrations(pool) for pool in pools))
        expected = [m.name for m in available_migrations()]

        applied = Counter(name for result in results for name in result)
        assert applied == Counter(expected)
        # Exactly one replica did the work; the others found nothing pending.
        assert sorted(len(result) for result in results) == [0] * (REPLICAS - 1) + [len(expected)]

        recorded = await pools[0].fetch("SELECT name FROM schema_migrations ORDER BY name")
        assert [row["name"] for row in recorded] == expected
        assert await apply_migrations(pools[0]) == []

        # The advisory lock was released by every replica.
        held = await pools[0].fetchval(MIGRATION_LOCKS_HELD, MIGRATION_LOCK_KEY)
        assert held == 0
    finally:
        for pool in pools:
            await pool.close()


async def test_schema_has_the_expected_tables(fresh_database_url: str) -> None:
    pool = await _pool(fresh_database_url)
    try:
        await apply_migrations(pool)
        rows = await pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        assert {row["tablename"] for row in rows} >= {
            "schema_migrations",
            "threads",
            "thread_items",
            "attachments",
            "feedback",
            "tasks",
        }
    finally:
        await pool.close()
