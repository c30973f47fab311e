"""Every user-scoped query runs in a transaction that Postgres row-level security confines to
that user (migration 0005): the role becomes `taskchat_app` and `taskchat.user_id` the user, both
only until the transaction ends, so a pooled connection carries nothing over to the next user.

Repositories keep their own `WHERE user_id = ...`; this is the second wall behind it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import asyncpg

from shared.db.pool import DbPool

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.pool.PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.pool.PoolConnectionProxy

APP_ROLE: Final = "taskchat_app"
USER_SETTING: Final = "taskchat.user_id"


def _enter(user_id: str) -> str:
    """`BEGIN` and the scope as one simple-protocol command: one round trip instead of two, on
    every user-scoped query. (`set_config('role', ...)` is what `SET LOCAL ROLE` does.)

    The user id travels dollar-quoted under a tag it does not contain: no escaping applies inside,
    whatever `standard_conforming_strings` says. Postgres cannot hold NUL, so neither may the id.
    """
    if "\x00" in user_id:
        raise ValueError("a user id cannot contain NUL")
    tag = "u"
    while f"${tag}$" in user_id:
        tag += "u"
    return (
        f"BEGIN; SELECT set_config('role', '{APP_ROLE}', true),"
        f" set_config('{USER_SETTING}', ${tag}${user_id}${tag}$, true)"
    )


@asynccontextmanager
async def user_transaction(pool: DbPool, user_id: str) -> AsyncIterator[Connection]:
    """A connection in a transaction that can only see and write `user_id`'s rows."""
    async with pool.acquire() as conn:
        await conn.execute(_enter(user_id))
        try:
            yield conn
        except BaseException:
            # A broken (or mid-query cancelled) connection cannot roll back; the pool resets or
            # discards it on release, and the server ends the transaction with it.
            with contextlib.suppress(Exception):
                await conn.execute("ROLLBACK")
            raise
        await conn.execute("COMMIT")


class UserScopedDb:
    """The pool's query methods, each run in its own `user_transaction`."""

    def __init__(self, pool: DbPool) -> None:
        self.pool = pool

    def transaction(self, user_id: str) -> AbstractAsyncContextManager[Connection]:
        """One transaction for several statements."""
        return user_transaction(self.pool, user_id)

    async def fetch(self, user_id: str, query: str, *args: Any) -> list[asyncpg.Record]:
        async with user_transaction(self.pool, user_id) as conn:
            return await conn.fetch(query, *args)

    async def fetchrow(self, user_id: str, query: str, *args: Any) -> asyncpg.Record | None:
        async with user_transaction(self.pool, user_id) as conn:
            return await conn.fetchrow(query, *args)

    async def fetchval(self, user_id: str, query: str, *args: Any) -> Any:
        async with user_transaction(self.pool, user_id) as conn:
            return await conn.fetchval(query, *args)

    async def execute(self, user_id: str, query: str, *args: Any) -> str:
        async with user_transaction(self.pool, user_id) as conn:
            return await conn.execute(query, *args)
