"""The store as a worker's turns use it: reads of the turn's own thread come from `context.reads`.

A turn's first read of its thread (chatkit's `load_thread`, or the history) fetches the metadata
and the newest items in one statement; the turn's later reads of them (the history, chatkit's
look at the last items) are answered from that, and its writes keep it current (see
`thread_reads.py` for why that is sound). A request with a plain `RequestContext` (the
gateway's) is served by `PostgresStore` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatkit.store import NotFoundError
from chatkit.types import Page, ThreadItem, ThreadMetadata

from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store import codec
from shared.store.postgres_store import PostgresStore, check_page
from shared.store.sql import THREAD_AND_NEWEST_ITEMS
from shared.store.thread_reads import ThreadReads


@dataclass(frozen=True, slots=True)
class TurnContext(RequestContext):
    """A worker's request context for one turn, with what the turn has read of its thread."""

    reads: ThreadReads = field(default_factory=ThreadReads, compare=False, hash=False)


def _reads(context: RequestContext) -> ThreadReads | None:
    return context.reads if isinstance(context, TurnContext) else None


CHATKIT_PAGE = 20
"""chatkit's own first-page reads during a turn (`DEFAULT_PAGE_SIZE`): the first read takes at
least one more, so that page (and whether there is more) can be answered from it."""


class TurnStore(PostgresStore):
    def __init__(self, pool: DbPool, *, newest_items: int) -> None:
        super().__init__(pool)
        self._newest_items = max(newest_items, CHATKIT_PAGE + 1)

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        reads = _reads(context)
        if reads is None:
            return await super().load_thread(thread_id, context)
        known = reads.thread_of(thread_id)
        if known is None:
            await self._read(thread_id, reads, context)
            known = reads.thread_of(thread_id)
        assert known is not None  # _read raised NotFoundError otherwise
        return known

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        await super().save_thread(thread, context)
        reads = _reads(context)
        if reads is not None:
            reads.thread_saved(thread)

    async def load_recent_items(
        self, thread_id: str, limit: int, context: RequestContext
    ) -> list[ThreadItem]:
        reads = _reads(context)
        if reads is None or not 1 <= limit <= self._newest_items:
            return await super().load_recent_items(thread_id, limit, context)
        if reads.thread_id is None:
            await self._read(thread_id, reads, context)
        newest = reads.newest(thread_id, limit)
        if newest is None:
            return await super().load_recent_items(thread_id, limit, context)
        return newest

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        limit = check_page(limit, order)
        reads = _reads(context)
        page = None
        if reads is not None and after is None and order == "desc":
            page = reads.newest_page(thread_id, limit)
        if page is None:
            return await super().load_thread_items(thread_id, after, limit, order, context)
        return page

    async def _upsert_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> int:
        seq = await super()._upsert_item(thread_id, item, context)
        reads = _reads(context)
        if reads is not None:
            reads.item_saved(thread_id, seq, item)
        return seq

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        await super().delete_thread_item(thread_id, item_id, context)
        reads = _reads(context)
        if reads is not None:
            reads.item_deleted(thread_id, item_id)

    async def _read(self, thread_id: str, reads: ThreadReads, context: RequestContext) -> None:
        rows = await self._db.fetch(
            context.user_id, THREAD_AND_NEWEST_ITEMS, thread_id, context.user_id,
            self._newest_items,
        )  # fmt: skip
        if not rows or rows[0]["part"] != 0:
            raise NotFoundError(f"Thread {thread_id} not found")
        items = [(int(row["seq"]), codec.load_item(row["data"])) for row in rows[1:]]
        reads.remember(
            codec.load_thread(rows[0]["data"]), items, complete=len(items) < self._newest_items
        )
