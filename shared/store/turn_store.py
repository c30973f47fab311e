"""The store as a worker's turns use it: reads of the turn's own thread come from `context.reads`,
and the turn's writes are few statements (`context.writes`, see `turn_writes.py`).

A turn's first statement fetches the thread's newest items (and the metadata, unless the gateway
passed it on); the turn's later reads of them (the history, chatkit's look at the last items)
are answered from that, and its writes keep it current (see `thread_reads.py` for why that is
sound). The first statement also records the turn as running and writes whatever the turn holds,
usually with the user's message; what only the assistant produced is held until the turn's next
statement or its close. A request with a plain `RequestContext` (the gateway's) is served by
`PostgresStore` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatkit.store import StoreItemType
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata

from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store import codec
from shared.store.postgres_store import PostgresStore, check_page
from shared.store.thread_reads import ThreadReads
from shared.store.turn_writes import WRITTEN_AT_ONCE, TurnWrites, write_turn


@dataclass(frozen=True, slots=True)
class TurnContext(RequestContext):
    """A worker's request context for one turn: what the turn has read of its thread, and what
    it has yet to write."""

    reads: ThreadReads = field(default_factory=ThreadReads, compare=False, hash=False)
    writes: TurnWrites = field(default_factory=TurnWrites, compare=False, hash=False)


def _turn(context: RequestContext) -> TurnContext | None:
    return context if isinstance(context, TurnContext) else None


CHATKIT_PAGE = 20
"""chatkit's own first-page reads during a turn (`DEFAULT_PAGE_SIZE`): the first read takes at
least one more, so that page (and whether there is more) can be answered from it."""


class TurnStore(PostgresStore):
    def __init__(self, pool: DbPool, *, newest_items: int) -> None:
        super().__init__(pool)
        self._newest_items = max(newest_items, CHATKIT_PAGE + 1)

    def generate_item_id(
        self, item_type: StoreItemType, thread: ThreadMetadata, context: RequestContext
    ) -> str:
        item_id = super().generate_item_id(item_type, thread, context)
        turn = _turn(context)
        if turn is not None:
            turn.writes.generated.add(item_id)  # new: its place is after every stored item
        return item_id

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        turn = _turn(context)
        if turn is None or turn.reads.thread_id not in (None, thread_id):
            return await super().load_thread(thread_id, context)  # not the turn's thread
        known = turn.reads.thread_of(thread_id)
        if known is None:
            await self._sync(turn, thread_id)
            known = turn.reads.thread_of(thread_id)
        assert known is not None  # _sync raised NotFoundError otherwise
        return known

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        turn = _turn(context)
        if turn is None:
            await super().save_thread(thread, context)
            return
        reads, writes = turn.reads, turn.writes
        creates = reads.thread_id is None and reads.creates_thread
        if not creates and thread.id != reads.thread_id:
            await super().save_thread(thread, context)  # not the turn's thread: as it was
            return
        # Held: written with the turn's next statement (a new thread with its first item).
        writes.thread = thread.model_copy(deep=True)
        writes.thread_is_new = writes.thread_is_new or creates
        reads.thread_saved(thread)

    async def load_recent_items(
        self, thread_id: str, limit: int, context: RequestContext
    ) -> list[ThreadItem]:
        turn = _turn(context)
        if turn is None:
            return await super().load_recent_items(thread_id, limit, context)
        if 1 <= limit <= self._newest_items:
            if turn.reads.thread_id in (None, thread_id) and not turn.reads.knows_items(thread_id):
                await self._sync(turn, thread_id)
            newest = turn.reads.newest(thread_id, limit)
            if newest is not None:
                return newest
        await self.flush(turn)  # what the database answers must include the turn's writes
        return await super().load_recent_items(thread_id, limit, context)

    async def load_thread_items(
        self,
        thread_id: str,
        after: str | None,
        limit: int,
        order: str,
        context: RequestContext,
    ) -> Page[ThreadItem]:
        limit = check_page(limit, order)
        turn = _turn(context)
        if turn is None:
            return await super().load_thread_items(thread_id, after, limit, order, context)
        if after is None and order == "desc" and thread_id == turn.reads.thread_id:
            if not turn.reads.items_known:
                await self._sync(turn, thread_id)
            page = turn.reads.newest_page(thread_id, limit)
            if page is not None:
                return page
        await self.flush(turn)
        return await super().load_thread_items(thread_id, after, limit, order, context)

    async def add_thread_item(
        self, thread_id: str, item: ThreadItem, context: RequestContext
    ) -> None:
        await self._save_item(thread_id, item, context)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await self._save_item(thread_id, item, context)

    async def _save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        turn = _turn(context)
        if turn is None:
            await super()._upsert_item(thread_id, item, context)
            return
        reads, writes = turn.reads, turn.writes
        if thread_id != reads.thread_id and reads.thread_id is not None:
            await super()._upsert_item(thread_id, item, context)  # not the turn's thread
            return
        # Held when nobody needs it stored before the turn ends (`WRITTEN_AT_ONCE`) and these
        # reads can place it: it is known, or new, or the items are not read yet (whatever
        # reads them writes it first).
        if not isinstance(item, WRITTEN_AT_ONCE) and (
            not reads.knows_items(thread_id)
            or reads.places(thread_id, item.id)
            or item.id in writes.generated
        ):
            writes.items[item.id] = item
            reads.item_saved(thread_id, None, item)
            return
        await self._sync(turn, thread_id, item)

    async def load_item(self, thread_id: str, item_id: str, context: RequestContext) -> ThreadItem:
        turn = _turn(context)
        if turn is not None and thread_id == turn.reads.thread_id:
            held = turn.writes.items.get(item_id)
            if held is not None:
                return held.model_copy(deep=True)
        return await super().load_item(thread_id, item_id, context)

    async def delete_thread_item(
        self, thread_id: str, item_id: str, context: RequestContext
    ) -> None:
        turn = _turn(context)
        if turn is not None:
            await self.flush(turn)  # the item may be among those held
        await super().delete_thread_item(thread_id, item_id, context)
        if turn is not None:
            turn.reads.item_deleted(thread_id, item_id)

    async def save_attachment(self, attachment: Attachment, context: RequestContext) -> None:
        turn = _turn(context)
        if turn is not None and turn.writes.thread_is_new:
            await self.flush(turn)  # the attachment's thread must exist first
        await super().save_attachment(attachment, context)

    async def flush(self, context: TurnContext) -> None:
        """Write what the turn holds, and its record, now (one statement; none if nothing is
        pending)."""
        if context.writes.pending():
            await self._sync(context, context.reads.thread_id)

    async def _sync(
        self, turn: TurnContext, thread_id: str | None, item: ThreadItem | None = None
    ) -> None:
        """One statement: what the turn holds, then `item`, the turn's record (if not written
        yet), and the thread's newest items unless the reads know them. `NotFoundError` (and
        nothing written) when the thread is not the user's or is gone."""
        reads, writes = turn.reads, turn.writes
        if reads.thread_id not in (None, thread_id):
            raise ValueError("a turn writes its own thread only")  # what it holds is for that
        batch = writes.batch(then=item)
        newest = None if thread_id is None or reads.knows_items(thread_id) else self._newest_items
        async with self._db.transaction(turn.user_id) as conn:
            written = await write_turn(conn, turn.user_id, thread_id, batch, newest=newest)
        writes.written(batch)
        if thread_id is None:
            return
        if newest is not None:
            thread = reads.thread_of(thread_id)
            if thread is None:
                assert written.thread_data is not None
                thread = codec.load_thread(written.thread_data)
            items: list[tuple[int | None, ThreadItem]] = [
                (seq, codec.load_item(data)) for seq, data in written.newest
            ]
            reads.remember(thread, items, complete=len(items) < newest)
        for saved in batch.items:
            reads.item_saved(thread_id, written.seqs[saved.id], saved)
