"""Putting items straight into a thread, for states no model turn produces (a pending client tool
call, a structured-input question, thousands of old items)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from chatkit.types import ThreadItem

from shared.db.pool import create_pool
from shared.request_context import RequestContext
from shared.settings import DatabaseSettings
from shared.store.postgres_store import PostgresStore


def seed_items(database_url: str, user_id: str, items: Sequence[ThreadItem]) -> None:
    async def insert() -> None:
        pool = await create_pool(DatabaseSettings(url=database_url, pool_max_size=4))
        try:
            store = PostgresStore(pool)
            context = RequestContext(user_id=user_id)
            for item in items:
                await store.add_thread_item(item.thread_id, item, context)
        finally:
            await pool.close()

    asyncio.run(insert())


def fetch_value(database_url: str, query: str, *args: object) -> object:
    import asyncpg

    async def run() -> object:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    return asyncio.run(run())
