"""Row-level security (migration 0005): a user-scoped transaction sees and writes only its user's
rows, even with a query that forgot its WHERE."""

from __future__ import annotations

import contextlib

import asyncpg
import pytest

from shared.db.pool import DbPool, create_pool
from shared.db.user_scope import user_transaction
from shared.settings import DatabaseSettings
from shared.tasks.repository import TaskRepository

USER_TABLES = (
    "threads",
    "thread_items",
    "attachments",
    "attachment_blobs",
    "feedback",
    "tasks",
    "turn_usage",
    "turns",
)


async def test_a_query_without_where_sees_only_the_current_users_rows(db_pool: DbPool) -> None:
    tasks = TaskRepository(db_pool)
    for title in ("a1", "a2"):
        await tasks.create("alice", title)
    await tasks.create("bob", "b1")
    async with user_transaction(db_pool, "alice") as conn:
        titles = [r["title"] for r in await conn.fetch("SELECT title FROM tasks ORDER BY id")]
        assert titles == ["a1", "a2"]
        # A forgotten WHERE in an UPDATE or DELETE cannot touch bob's task either.
        assert await conn.execute("UPDATE tasks SET title = 'pwned'") == "UPDATE 2"
        assert await conn.execute("DELETE FROM tasks") == "DELETE 2"
    assert [t.title for t in await tasks.list("bob")] == ["b1"]


async def test_rows_of_another_user_cannot_be_written(db_pool: DbPool) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with user_transaction(db_pool, "alice") as conn:
            await conn.execute("INSERT INTO tasks (user_id, title) VALUES ('bob', 'planted')")
    assert await TaskRepository(db_pool).list("bob") == []


async def test_without_a_user_nothing_is_visible(db_pool: DbPool) -> None:
    await TaskRepository(db_pool).create("alice", "a1")
    async with db_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL ROLE taskchat_app")
        assert await conn.fetchval("SELECT count(*) FROM tasks") == 0


async def test_every_user_owned_table_has_row_security(db_pool: DbPool) -> None:
    rows = await db_pool.fetch(
        "SELECT c.relname, c.relrowsecurity, count(p.policyname) AS policies"
        " FROM pg_class c LEFT JOIN pg_policies p ON p.tablename = c.relname"
        " WHERE c.relname = ANY($1::text[]) GROUP BY c.relname, c.relrowsecurity",
        list(USER_TABLES),
    )
    assert {r["relname"] for r in rows} == set(USER_TABLES)
    assert all(r["relrowsecurity"] and r["policies"] >= 1 for r in rows)
    # Every table with a user_id column is among them: a new one must get a policy too.
    owned = await db_pool.fetch(
        "SELECT table_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'user_id'"
    )
    assert {r["table_name"] for r in owned} <= set(USER_TABLES)


async def test_the_scope_ends_with_the_transaction(db_pool: DbPool) -> None:
    async with user_transaction(db_pool, "alice") as conn:
        assert await conn.fetchval("SELECT current_user") == "taskchat_app"
    async with db_pool.acquire() as conn:
        assert await conn.fetchval("SELECT current_user") != "taskchat_app"
        assert not await conn.fetchval("SELECT current_setting('taskchat.user_id', true)")


async def test_any_user_id_is_carried_exactly_into_the_scope(db_pool: DbPool) -> None:
    for user_id in ("o'brien", "a$u$b$uu$c", "back\\slash", "ünïcødé"):
        async with user_transaction(db_pool, user_id) as conn:
            assert await conn.fetchval("SELECT current_setting('taskchat.user_id')") == user_id


async def test_a_failed_statement_rolls_the_scope_back(db_pool: DbPool) -> None:
    with pytest.raises(asyncpg.UndefinedTableError):
        async with user_transaction(db_pool, "alice") as conn:
            await conn.execute("SELECT * FROM no_such_table")
    async with db_pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT current_user") != "taskchat_app"


@pytest.mark.parametrize("fails", [False, True])
async def test_the_user_scope_ends_with_its_transaction(
    db_pool: DbPool, database_url: str, fails: bool
) -> None:
    """The pool skips asyncpg's reset query (see `create_pool`): the scope must end with each
    transaction, committed or failed, or the connection's next borrower would act as that user."""
    # One connection: the next acquire gets the very connection just released.
    pool = await create_pool(DatabaseSettings(url=database_url, pool_min_size=1, pool_max_size=1))
    try:
        with pytest.raises(RuntimeError) if fails else contextlib.nullcontext():
            async with user_transaction(pool, "alice") as conn:
                scope = await conn.fetchval("SELECT current_setting('taskchat.user_id', true)")
                assert scope == "alice"
                if fails:
                    raise RuntimeError("the transaction fails")
        async with pool.acquire() as conn:
            assert not await conn.fetchval("SELECT current_setting('taskchat.user_id', true)")
            assert await conn.fetchval("SELECT current_user") != "taskchat_app"
    finally:
        await pool.close()
