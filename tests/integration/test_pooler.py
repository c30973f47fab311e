"""Through PgBouncer in transaction mode (what Neon's pooled URL is): statements, migrations, user
scopes and TLS as the services use them. The end-to-end counterpart is tests/e2e/test_pooler.py."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from shared.db.migrations import MIGRATION_LOCK_KEY, apply_migrations, available_migrations
from shared.db.pool import DbPool, create_pool
from shared.settings import DatabaseSettings
from shared.tasks.repository import TaskRepository
from tests.db_roles import (
    OWNER_ROLE,
    SERVICE_ROLE,
    as_role,
    ensure_login_roles,
    migrated_pool,
    owned_scratch_database,
)
from tests.pgbouncer import PgBouncer, database_name, running_pgbouncer
from tests.scratch_database import MIGRATION_LOCKS_HELD

REPLICAS = 5
USERS = ("alice", "bob", "carol$u", "o'brien", "ünï", "$", "d" * 255)


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[PgBouncer]:
    """Two server connections per (database, user), shared by every client of the module."""
    asyncio.run(ensure_login_roles())
    with running_pgbouncer(["postgres", OWNER_ROLE, SERVICE_ROLE], pool_size=2) as bouncer:
        yield bouncer


@pytest.fixture
def owned_database() -> Iterator[str]:
    with owned_scratch_database("taskchat_pooler") as url:
        yield url


@pytest.fixture
async def pooled(pgbouncer: PgBouncer, owned_database: str) -> AsyncIterator[DbPool]:
    """The services' pool as deployed on Neon: the service role through the pooler (TLS
    required), migrated by the owner over the direct URL."""
    settings = DatabaseSettings(
        url=pgbouncer.url(database_name(owned_database), SERVICE_ROLE),
        pool_max_size=10,
        pooler="transaction",
        migration_url=as_role(owned_database, OWNER_ROLE),
    )
    async with migrated_pool(settings) as pool:
        yield pool


async def test_many_replicas_migrate_through_the_pooler_at_once(
    pgbouncer: PgBouncer, owned_database: str
) -> None:
    url = pgbouncer.url(database_name(owned_database), OWNER_ROLE)
    pools = [
        await create_pool(DatabaseSettings(url=url, pool_max_size=1, pooler="transaction"))
        for _ in range(REPLICAS)
    ]
    try:
        results = await asyncio.gather(*(apply_migrations(pool) for pool in pools))
        expected = [m.name for m in available_migrations()]
        assert Counter(name for result in results for name in result) == Counter(expected)
        assert await apply_migrations(pools[0]) == []
    finally:
        for pool in pools:
            await pool.close()
    # No server connection the pooler keeps is left holding the lock.
    admin = await asyncpg.connect(owned_database)
    try:
        held = await admin.fetchval(MIGRATION_LOCKS_HELD, MIGRATION_LOCK_KEY)
        assert held == 0
    finally:
        await admin.close()


async def test_concurrent_user_scopes_share_server_connections_and_stay_apart(
    pooled: DbPool,
) -> None:
    tasks = TaskRepository(pooled)

    async def work(user: str, round_: int) -> None:
        await tasks.create(user, f"{user[:200]} #{round_}")
        titles = [t.title for t in await tasks.list(user)]
        assert all(title.startswith(f"{user[:200]} #") for title in titles), (user, titles)

    # Ten client connections over two server connections: every transaction lands on whichever
    # server connection is free, right after another user's transaction.
    await asyncio.gather(*(work(user, n) for n in range(15) for user in USERS))
    for user in USERS:
        assert len(await tasks.list(user)) == 15
    assert await pooled.fetch("SELECT user_id FROM tasks") == []  # no scope, nothing


def test_the_statement_cache_must_be_off_behind_pgbouncer(owned_database: str) -> None:
    """Why `DATABASE_POOLER=transaction` exists. asyncpg names its statements from a counter per
    process, so a process that starts after another (a restarted gateway, a second replica) reuses
    the names, and PgBouncer 1.18 leaves the first one's statements on the server connection it
    hands to the second: the very failure the gateway died of at start-up."""
    with running_pgbouncer(["postgres"], pool_size=1, tls=False) as single:
        url = single.url(database_name(owned_database), "postgres", query="")
        for pooler, fails in (("none", True), ("transaction", False)):
            outcomes = [_query_in_a_new_process(url, pooler) for _ in range(2)]
            assert outcomes[0].returncode == 0, outcomes[0].stderr
            if fails:
                assert outcomes[1].returncode != 0
                assert "DuplicatePreparedStatementError" in outcomes[1].stderr
            else:
                assert outcomes[1].returncode == 0, outcomes[1].stderr


_ONE_PROCESS = """
import asyncio, sys
from shared.db.pool import create_pool
from shared.settings import DatabaseSettings

async def main() -> None:
    pool = await create_pool(DatabaseSettings(url=sys.argv[1], pool_max_size=1, pooler=sys.argv[2]))
    try:
        assert await pool.fetchval("SELECT $1::int + 1", 1) == 2
    finally:
        await pool.close()

asyncio.run(main())
"""


def _query_in_a_new_process(url: str, pooler: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _ONE_PROCESS, url, pooler],
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_sslmode_require_is_honoured(pgbouncer: PgBouncer, owned_database: str) -> None:
    database = database_name(owned_database)
    # Neon's URLs carry channel_binding too; asyncpg cannot bind, `prefer` is met without it.
    url = pgbouncer.url(database, "postgres", "sslmode=require&channel_binding=prefer")
    pool = await create_pool(DatabaseSettings(url=url, pool_max_size=1, pooler="transaction"))
    try:
        assert await pool.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
    logins = re.findall(rf"{database}/postgres@.*login attempt: .*", pgbouncer.log())
    assert logins and all("tls=TLS" in line for line in logins), logins

    # A server that does not speak TLS is refused, not used in plain text.
    with running_pgbouncer(["postgres"], tls=False) as plain, pytest.raises(ConnectionError):
        await create_pool(DatabaseSettings(url=plain.url(database, "postgres")))
