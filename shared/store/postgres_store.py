"""ChatKit's `Store` on PostgreSQL, shared by the gateway and every agent worker.

Every statement is scoped to `context.user_id` and runs in a transaction that row-level security
confines to that user (`shared/db/user_scope.py`): another user's thread, item or attachment is
reported exactly like a missing one (`chatkit.store.NotFoundError`), so ids leak nothing.
Item order is the `thread_items.seq` identity column, never the client-supplied `created_at`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import asyncpg
from chatkit.store import NotFoundError, Store, StoreItemType
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata

from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb
from shared.errors import InvalidInputError
from shared.request_context import RequestContext
from shared.store import codec
from shared.store.ids import new_id
from shared.store.sql import (
    ADD_FEEDBACK,
    FIND_THREAD_AND_CURSOR,
    LOAD_FEEDBACK,
    OWNED_ITEMS,
    RECENT_ITEMS,
    SAVE_ATTACHMENT,
    SAVE_THREAD,
    UPSERT_ITEM,
    items_page_query,
    threads_page_query,
)

_ORDERS: Final = ("asc", "desc")


MAX_PAGE_SIZE: Final = 100
"""Larger pages are cut to this size (`has_more` says there is more): one request must not be
able to make the store read a whole thread, or overflow LIMIT."""


def check_page(limit: int, order: str) -> int:
    """The page size to use. Both values arrive from the browser; bad ones never reach SQL."""
    if order not in _ORDERS:
        raise InvalidInputError(f"order must be 'asc' or 'desc', not {order!r}")
    if limit < 1:
        raise InvalidInputError(f"limit must be at least 1, not {limit}")
    return min(limit, MAX_PAGE_SIZE)


def aware(moment: datetime) -> datetime:
    # chatkit stamps objects with a naive `datetime.now()`: read it as local time, as Python does,
    # instead of leaving the interpretation to the driver.
    return moment if moment.tzinfo is not None else moment.astimezone()


class PostgresStore(Store[RequestContext]):
    """Threads, items, attachments and feedback in Postgres, scoped to the request's user."""

    def __init__(self, pool: DbPool) -> None:
        self._db = UserScopedDb(pool)

    # --- ids ---------------------------------------------------------------------------------

    def generate_thread_id(self, context: RequestContext) -> str:
        """A new, globally unique thread id (`thr_...`)."""
        return new_id("thread")

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        """A new, globally unique item id with chatkit's prefix for `item_type`."""
        return new_id(item_type)

    # --- threads -----------------------------------------------------------------------------

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        """The user's thread metadata; `NotFoundError` if missing or someone else's."""
        return codec.load_thread(await self.load_thread_data(thread_id, context))

    async def load_thread_data(self, thread_id: str, context: RequestContext) -> str:
        """`load_thread`'s metadata as stored (JSON), for passing it on."""
        data: str | None = await self._db.fetchval(
            context.user_id,
            "SELECT data FROM threads WHERE id = $1 AND user_id = $2",
            thread_id,
            context.user_id,
        )
        if data is None:
            raise NotFoundError(f"Thread {thread_id} not found")
        return data

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        """Insert or update the thread; `NotFoundError` if the id belongs to another user."""
        try:
            saved = await self._db.fetchval(
                context.user_id,
                SAVE_THREAD,
                thread.id,
                context.user_id,
                aware(thread.created_at),
                thread.title,
                codec.dump_thread(thread),
            )
        except asyncpg.InsufficientPrivilegeError:
            saved = None  # the id is another user's thread: row security refused the upsert
        if saved is None:
            raise NotFoundError(f"Thread {thread.id} not found")

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: RequestContext
    ) -> Page[ThreadMetadata]:
        """A page of the user's threads by (created_at, id); `after` is the last id seen."""
        limit = check_page(limit, order)
        async with self._db.transaction(context.user_id) as conn:
            if after is None:
                rows = await conn.fetch(
                    threads_page_query(order, keyset=False), context.user_id, limit + 1
                )
            else:
                cursor = await conn.fetchrow(
                    "SELECT created_at, id FROM threads WHERE id = $1 AND user_id = $2",
                    after,
                    context.user_id,
                )
                if cursor is None:
                    raise NotFoundError(f"Thread {after} not found")
                rows = await conn.fetch(
                    threads_page_query(order, keyset=True),
                    context.user_id,
                    limit + 1,
                    cursor["created_at"],
                    cursor["id"],
                )
        threads = [codec.load_thread(row["data"]) for row in rows[:limit]]
        return Page(
            data=threads,
            has_more=len(rows) > limit,
            after=threads[-1].id if threads else None,
        )

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        """Delete the thread; its items, attachments and feedback go with it (FK cascades)."""
        deleted = await self._db.fetchval(
            context.user_id,
            "DELETE FROM threads WHERE id = $1 AND user_id = $2 RETURNING id",
            thread_id,
            context.user_id,
        )
        if deleted is None:
            raise NotFoundError(f"Thread {thread_id} not found")

    # --- items -------------------------------------------------------------------------------

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        """A page of the thread's items in insertion order; `after` is the last id seen."""
        limit = check_page(limit, order)
        async with self._db.transaction(context.user_id) as conn:
            found = await conn.fetchrow(FIND_THREAD_AND_CURSOR, thread_id, context.user_id, after)
            if found is None:
                raise NotFoundError(f"Thread {thread_id} not found")
            if after is None:
                rows = await conn.fetch(
                    items_page_query(order, keyset=False), thread_id, context.user_id, limit + 1
                )
            else:
                if found["after_seq"] is None:
                    raise NotFoundError(f"Item {after} not found in thread {thread_id}")
                rows = await conn.fetch(
                    items_page_query(order, keyset=True),
                    thread_id,
                    context.user_id,
                    limit + 1,
                    found["after_seq"],
                )
        items = [codec.load_item(row["data"]) for row in rows[:limit]]
        return Page(
            data=items,
            has_more=len(rows) > limit,
            after=items[-1].id if items else None,
        )

    async def load_recent_items(
        self, thread_id: str, limit: int, context: RequestContext
    ) -> list[ThreadItem]:
        """The thread's newest `limit` items, oldest first: the history worth sending a model."""
        if limit < 1:
            raise InvalidInputError(f"limit must be at least 1, not {limit}")
        rows = await self._db.fetch(
            context.user_id, RECENT_ITEMS, thread_id, context.user_id, limit
        )
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        # An empty thread yields one row with NULL data (the LEFT JOIN keeps the thread row).
        return [codec.load_item(row["data"]) for row in rows if row["data"] is not None]

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        """Store an item; an existing id is updated in place and keeps its position.

        chatkit calls this again for an item it already stored (a workflow continued across
        turns), so this is an upsert, not a plain insert.
        """
        await self._upsert_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        """Replace a stored item (inserting it if it is not there yet)."""
        await self._upsert_item(thread_id, item, context)

    async def _upsert_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        try:
            seq = await self._db.fetchval(
                context.user_id,
                UPSERT_ITEM,
                item.id,
                thread_id,
                context.user_id,
                item.type,
                aware(item.created_at),
                codec.dump_item(item),
            )
        except asyncpg.ForeignKeyViolationError:
            # The thread was deleted between the ownership check and the insert.
            seq = None
        except asyncpg.InsufficientPrivilegeError:
            seq = None  # the item id is another user's: row security refused the upsert
        if seq is None:
            # Not the user's thread, or the item id already lives in another thread/user.
            raise NotFoundError(f"Thread {thread_id} not found")

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        """One item of the user's thread; `NotFoundError` otherwise."""
        data = await self._db.fetchval(
            context.user_id,
            "SELECT data FROM thread_items WHERE id = $1 AND thread_id = $2 AND user_id = $3",
            item_id,
            thread_id,
            context.user_id,
        )
        if data is None:
            raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
        return codec.load_item(data)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        """Delete an item of the user's thread (`NotFoundError` if the thread is not theirs).

        Deleting an item that is not stored is a no-op: chatkit emits removals for streamed
        items that never reached `thread.item.done` (e.g. after a guardrail trips).
        """
        async with self._db.transaction(context.user_id) as conn:
            deleted = await conn.fetchval(
                "DELETE FROM thread_items WHERE id = $1 AND thread_id = $2 AND user_id = $3"
                " RETURNING id",
                item_id,
                thread_id,
                context.user_id,
            )
            if deleted is None and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM threads WHERE id = $1 AND user_id = $2)",
                thread_id,
                context.user_id,
            ):
                raise NotFoundError(f"Thread {thread_id} not found")

    # --- attachments -------------------------------------------------------------------------

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        """Insert or update attachment metadata; its thread, if set, must be the user's."""
        try:
            saved = await self._db.fetchval(
                context.user_id,
                SAVE_ATTACHMENT,
                attachment.id,
                context.user_id,
                attachment.thread_id,
                attachment.mime_type,
                attachment.name,
                codec.dump_attachment(attachment),
            )
        except (asyncpg.ForeignKeyViolationError, asyncpg.InsufficientPrivilegeError):
            saved = None  # a thread that vanished, or an id that is another user's
        if saved is None:
            raise NotFoundError(f"Attachment {attachment.id} not found")

    async def load_attachment(self, attachment_id: str, context: RequestContext) -> Attachment:
        """The user's attachment metadata; `NotFoundError` otherwise."""
        data = await self._db.fetchval(
            context.user_id,
            "SELECT data FROM attachments WHERE id = $1 AND user_id = $2",
            attachment_id,
            context.user_id,
        )
        if data is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")
        return codec.load_attachment(data)

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Delete the user's attachment metadata; `NotFoundError` if missing or not theirs."""
        deleted = await self._db.fetchval(
            context.user_id,
            "DELETE FROM attachments WHERE id = $1 AND user_id = $2 RETURNING id",
            attachment_id,
            context.user_id,
        )
        if deleted is None:
            raise NotFoundError(f"Attachment {attachment_id} not found")

    # --- feedback ----------------------------------------------------------------------------

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], kind: str, context: RequestContext
    ) -> None:
        """Record the user's feedback on items of their thread; repeating it replaces the kind."""
        wanted = sorted(set(item_ids))
        async with self._db.transaction(context.user_id) as conn:
            owned = await conn.fetchval(OWNED_ITEMS, thread_id, context.user_id, wanted)
            # NULL: the thread is not the user's; fewer ids: some item is not in that thread.
            if owned is None:
                raise NotFoundError(f"Thread {thread_id} not found")
            if owned != len(wanted):
                raise NotFoundError(f"Some items were not found in thread {thread_id}")
            if wanted:
                try:
                    await conn.execute(ADD_FEEDBACK, thread_id, context.user_id, wanted, kind)
                except asyncpg.ForeignKeyViolationError:
                    # An item was deleted after the check above.
                    raise NotFoundError(
                        f"Some items were not found in thread {thread_id}"
                    ) from None

    async def load_feedback(self, thread_id: str, context: RequestContext) -> dict[str, str]:
        """The user's feedback on the thread: item id -> kind; `NotFoundError` if not theirs."""
        rows = await self._db.fetch(context.user_id, LOAD_FEEDBACK, thread_id, context.user_id)
        if not rows:
            raise NotFoundError(f"Thread {thread_id} not found")
        return {row["item_id"]: row["kind"] for row in rows if row["item_id"] is not None}
