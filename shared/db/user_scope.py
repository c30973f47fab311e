"""Every user-scoped query runs in a transaction that Postgres row-level security confines to
that user (migrations 0005, 0008): the role becomes `taskchat_app` and `taskchat.user_id` the user,
both only until the transaction ends, so a pooled connection carries nothing over to the next user
(and, behind a transaction pooler, nothing is left on a server connection another client gets).

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
ALL_USERS_SETTING: Final = "taskchat.all_users"
"""Set to `on` by the few transactions that are across users by design (housekeeping of turn
records, operator reports, migrations): the policies of 0008 then show every row. A transaction
that sets neither this nor a user sees nothing."""

# The user id is a bound parameter, never SQL text: any string Postgres can hold is just a value.
# (`set_config('role', ...)` is what `SET LOCAL ROLE` does.)
_ENTER_USER = (
    f"SELECT set_config('role', '{APP_ROLE}', true), set_config('{USER_SETTING}', $1, true)"
)
_ENTER_ALL_USERS = (
    f"SELECT set_config('role', '{APP_ROLE}', true), set_config('{ALL_USERS_SETTING}', 'on', true)"
)


@asynccontextmanager
async def user_transaction(pool: DbPool, user_id: str) -> AsyncIterator[Connection]:
    """A connection in a transaction that can only see and write `user_id`'s rows."""
    if "\x00" in user_id:  # Postgres text cannot hold NUL
        raise ValueError("a user id cannot contain NUL")
    async with _scoped_transaction(pool, _ENTER_USER, user_id) as conn:
        yield conn


@asynccontextmanager
async def all_users_transaction(pool: DbPool) -> AsyncIterator[Connection]:
    """A connection in a transaction that sees every user's rows: only for work that is across
    users by design. Everything else goes through `user_transaction`."""
    async with _scoped_transaction(pool, _ENTER_ALL_USERS) as conn:
        yield conn


@asynccontextmanager
async def _scoped_transaction(pool: DbPool, enter: str, *args: str) -> AsyncIterator[Connection]:
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        try:
            await conn.execute(enter, *args)
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
