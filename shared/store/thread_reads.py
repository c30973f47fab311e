"""What one turn has read of its thread, kept current by the turn's own writes.

A streaming turn reads its thread several times: chatkit loads the metadata, the agent loads the
newest items as the model's history, chatkit looks at the last two items (to continue a workflow)
and at the last page (for a pending client tool call). Each read was a transaction of its own: a
BEGIN, the user scope, the query and a COMMIT. A turn's first read now fetches the metadata and the
newest items in one statement, and the later reads are answered from them.

This is sound because, while a turn runs, nothing else writes its thread's items: a thread runs
one turn at a time (the thread lock), a new thread's id is known only to its turn, and the
gateway's non-streaming requests change only the title, feedback or the thread's existence.
Every write the turn makes through the store updates these reads too, held writes included
(`turn_writes.py`): an item the turn holds is here at once, without its `seq` until written. A
thread deleted meanwhile fails the turn's next write, as it did before.

A turn may start knowing its thread's metadata but not its items: the gateway read the thread to
check it and passed it on (`seed`). The items then come with the turn's first statement. That
read is as sound as the others: a turn's thread changes only by turns (the title) and by the
gateway's non-streaming requests, and a turn that had to wait for the turn before it (`MULTITASK=
enqueue`) is not passed the thread read before that turn ended. (Left: a request checked in the
milliseconds before the turn before it closed, and admitted just after, is passed the thread as
it was before that close; at worst its title is made again.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chatkit.types import Page, ThreadItem, ThreadMetadata


@dataclass(slots=True)
class ThreadReads:
    creates_thread: bool = False
    """The turn creates its thread (`threads.create`): the thread it saves first has no items."""
    thread_id: str | None = None
    """The thread these reads are of (None: nothing read yet)."""
    thread: ThreadMetadata | None = None
    items: list[tuple[int | None, ThreadItem]] = field(default_factory=list)
    """The thread's newest items with their `seq` (their place in the thread), oldest first; a
    held item not written yet has none (it is newer than every written one)."""
    items_known: bool = False
    """`items` holds the thread's newest items (False: only the metadata is known)."""
    complete: bool = False
    """`items` is the whole thread (it had fewer items than were asked for)."""

    def seed(self, thread: ThreadMetadata) -> None:
        """The thread's metadata as the gateway read it; its items are not known yet."""
        self.thread_id, self.thread = thread.id, thread

    def remember(
        self, thread: ThreadMetadata, items: list[tuple[int | None, ThreadItem]], *, complete: bool
    ) -> None:
        self.thread_id, self.thread, self.items, self.complete = thread.id, thread, items, complete
        self.items_known = True

    def knows_items(self, thread_id: str) -> bool:
        return thread_id == self.thread_id and self.items_known

    def places(self, thread_id: str, item_id: str) -> bool:
        """These reads know where item `item_id` goes: it is among them, or they are the whole
        thread (so an item they lack is new)."""
        if not self.knows_items(thread_id):
            return False
        return self.complete or any(item.id == item_id for _, item in self.items)

    def thread_of(self, thread_id: str) -> ThreadMetadata | None:
        if thread_id != self.thread_id or self.thread is None:
            return None
        return self.thread.model_copy(deep=True)  # chatkit changes what it is given

    def thread_saved(self, thread: ThreadMetadata) -> None:
        if self.thread_id is None and self.creates_thread:
            self.remember(thread.model_copy(deep=True), [], complete=True)
        elif thread.id == self.thread_id:
            self.thread = thread.model_copy(deep=True)

    def item_saved(self, thread_id: str, seq: int | None, item: ThreadItem) -> None:
        """An upsert keeps an item's place (`seq`): replaced where it is, appended when it is
        newer than all known, left out when it is older than the items these reads hold. A held
        item (`seq` None) is new unless these reads have it: its writer makes sure of that."""
        if not self.knows_items(thread_id):
            return
        for position, (known_seq, known) in enumerate(self.items):
            if known.id == item.id:  # an id keeps its seq (one row per id)
                self.items[position] = (known_seq if seq is None else seq, item)
                return
        # (A complete view knows every seq, so an unknown one there is always a new item.)
        newest_seq = max((s for s, _ in self.items if s is not None), default=None)
        if seq is None or newest_seq is None or seq > newest_seq:
            self.items.append((seq, item))

    def item_deleted(self, thread_id: str, item_id: str) -> None:
        if thread_id == self.thread_id:
            self.items = [(seq, item) for seq, item in self.items if item.id != item_id]

    def newest(self, thread_id: str, limit: int) -> list[ThreadItem] | None:
        """The newest `limit` items, oldest first; None when these reads cannot tell."""
        if not self.knows_items(thread_id) or not (self.complete or len(self.items) >= limit):
            return None
        return [item for _, item in self.items[-limit:]]

    def newest_page(self, thread_id: str, limit: int) -> Page[ThreadItem] | None:
        """The first page of `load_thread_items(thread_id, None, limit, "desc")`, or None."""
        if not self.knows_items(thread_id) or not (self.complete or len(self.items) > limit):
            return None
        data = [item for _, item in reversed(self.items[-limit:])]
        return Page(
            data=data,
            has_more=len(self.items) > limit,
            after=data[-1].id if data else None,
        )
