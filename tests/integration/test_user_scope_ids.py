"""The user scope carries any valid user id as a value (a bound parameter), not as SQL text: ids
with dollar signs, quotes, backslashes, unicode or 255 characters are served and kept apart."""

from __future__ import annotations

import pytest

from shared.db.pool import DbPool
from shared.db.user_scope import USER_SETTING, user_transaction
from shared.tasks.repository import TaskRepository

AWKWARD_USER_IDS = (
    "$",
    "$$",
    "carol$u",
    "$u$",
    "a$u$b$uu$",
    "$1",
    "o'brien",
    'say "hi"',
    "back\\slash",
    "'; DROP TABLE tasks; --",
    "ünïcødé-用户-🙂",
    "a" * 255,
    "é" * 255,
)


@pytest.mark.parametrize("user_id", AWKWARD_USER_IDS)
async def test_the_scope_holds_the_user_id_exactly(db_pool: DbPool, user_id: str) -> None:
    async with user_transaction(db_pool, user_id) as conn:
        assert await conn.fetchval("SELECT current_setting($1)", USER_SETTING) == user_id


async def test_awkward_user_ids_are_served_and_kept_apart(db_pool: DbPool) -> None:
    tasks = TaskRepository(db_pool)
    for user_id in AWKWARD_USER_IDS:
        await tasks.create(user_id, f"task of {user_id}"[:255])
    for user_id in AWKWARD_USER_IDS:
        assert [t.title for t in await tasks.list(user_id)] == [f"task of {user_id}"[:255]]
        async with user_transaction(db_pool, user_id) as conn:
            # Without a WHERE: row-level security alone keeps the others' tasks out.
            assert await conn.fetchval("SELECT array_agg(DISTINCT user_id) FROM tasks") == [user_id]


async def test_a_user_id_with_nul_is_refused_before_reaching_postgres(db_pool: DbPool) -> None:
    with pytest.raises(ValueError, match="NUL"):
        async with user_transaction(db_pool, "nul\x00id"):
            pass
