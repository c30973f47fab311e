"""What one turn has read of its thread, kept current by the turn's own writes.

A streaming turn reads its thread several times: chatkit loads the metadata, the agent loads the
newest items as the model's history, chatkit looks at the last two items (to continue a workflow)
and at the last page (for a pending client tool call). Each read was a transaction of its own: a
BEGIN, the user scope, the query and a COMMIT. A turn's first read now fetches the metadata and the
newest items in one statement, and the later reads are answered from them.

This is sound because, while a turn runs, nothing else writes its thread's items: a thread runs
one turn at a time (the thread lock), a new thread's id is known only to its turn, and the
gateway's non-streaming requests change only the title, feedback or the thread's existence.
Every write the turn makes through the store updates these reads too. A thread deleted meanwhile
fails the turn's next write, as it did before.
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
    items: list[tuple[int, ThreadItem]] = field(default_factory=list)
    """The thread's newest items with their `seq` (their place in the thread), oldest first."""
    complete: bool = False
    """`items` is the whole thread (it had fewer items than were asked for)."""

    def remember(
        self, thread: ThreadMetadata, items: list[tuple[int, ThreadItem]], *, complete: bool
    ) -> None:
        self.thread_id, self.thread, self.items, self.complete = thread.id, thread, items, complete

    def thread_of(self, thread_id: str) -> ThreadMetadata | None:
        if thread_id != self.thread_id or self.thread is None:
            return None
        return self.thread.model_copy(deep=True)  # chatkit changes what it is given

    def thread_saved(self, thread: ThreadMetadata) -> None:
        if self.thread_id is None and self.creates_thread:
            self.remember(thread.model_copy(deep=True), [], complete=True)
        elif thread.id == self.thread_id:
            self.thread = thread.model_copy(deep=True)

    def item_saved(self, thread_id: str, seq: int, item: ThreadItem) -> None:
        """An upsert keeps an item's place (`seq`): replaced where it is, appended when it is
        newer than all known, left out when it is older than the items these reads hold."""
        if thread_id != self.thread_id:
            return
        for position, (known_seq, _) in enumerate(self.items):
            if known_seq == seq:
                self.items[position] = (seq, item)
                return
        # (A complete view knows every seq, so an unknown one there is always a new item.)
        if not self.items or seq > self.items[-1][0]:
            self.items.append((seq, item))

    def item_deleted(self, thread_id: str, item_id: str) -> None:
        if thread_id == self.thread_id:
            self.items = [(seq, item) for seq, item in self.items if item.id != item_id]

    def newest(self, thread_id: str, limit: int) -> list[ThreadItem] | None:
        """The newest `limit` items, oldest first; None when these reads cannot tell."""
        if thread_id != self.thread_id or not (self.complete or len(self.items) >= limit):
            return None
        return [item for _, item in self.items[-limit:]]

    def newest_page(self, thread_id: str, limit: int) -> Page[ThreadItem] | None:
        """The first page of `load_thread_items(thread_id, None, limit, "desc")`, or None."""
        if thread_id != self.thread_id or not (self.complete or len(self.items) > limit):
            return None
        data = [item for _, item in reversed(self.items[-limit:])]
        return Page(
            data=data,
            has_more=len(self.items) > limit,
            after=data[-1].id if data else None,
        )
