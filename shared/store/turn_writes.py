"""What a turn has yet to write, and the one statement that writes it.

A streamed turn used to cost six transactions (a BEGIN, the user scope and a COMMIT around each
statement): its record, its first read, the user's message, the answer, and its close. Now:

* the turn's first statement (normally the user's message) also records the turn as running and
  returns the thread's newest items, so there is no separate read and no separate record;
* items only the assistant produced (answers, widgets, tool items) and a renamed thread are held
  here until the turn's next statement, or its close, which writes them with the record's status
  and the turn's usage in one statement.

What the user sent (a message, a client tool's output, answers to a form) is never held: it is
durable before the model is called, so a worker that crashes loses only what the model said. Nor
is a widget: its buttons can be pressed while the turn still runs, and a press that the gateway
answers itself (`threads.sync_custom_action`) loads the widget from the database. A
held item is in the turn's reads (`thread_reads.py`) as soon as it is held, so the turn sees its
own writes; the `end` of the turn's event log is written after its close commits, so a client
that reloads after the stream ended sees every item.

Every part is a data-modifying CTE of one statement: Postgres checks the thread's foreign keys at
its end, so a new thread and its first items can be written together, and either all of it lands
or (the transaction rolls back) none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

import asyncpg
from chatkit.store import NotFoundError
from chatkit.types import (
    ClientToolCallItem,
    StructuredInputItem,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    WidgetItem,
)

from shared.db.user_scope import Connection
from shared.store import codec
from shared.store.postgres_store import aware
from shared.usage.repository import TurnUsage, usage_row

ClosingStatus = Literal["completed", "failed", "cancelled"]

WRITTEN_AT_ONCE: Final = (UserMessageItem, ClientToolCallItem, StructuredInputItem, WidgetItem)
"""Never held: items carrying what the user or their client sent, and widgets (which can be acted
on before the turn ends)."""


@dataclass(frozen=True, slots=True)
class TurnStart:
    """The turn's record as its first statement writes it (status `running`)."""

    turn_id: str
    thread_id: str | None
    """The thread the request named (None for `threads.create`: the new thread's id is used)."""
    queued_at: datetime


@dataclass(frozen=True, slots=True)
class TurnClose:
    """How the turn ended, written with its record (inserted if the turn wrote nothing yet)."""

    status: ClosingStatus
    error: str | None
    usage: TurnUsage | None


@dataclass(frozen=True, slots=True)
class Batch:
    """A snapshot of the held writes, taken for one statement."""

    record: TurnStart | None
    """To be recorded as running (None: already recorded, or no record for this context)."""
    thread: ThreadMetadata | None
    thread_is_new: bool
    items: tuple[ThreadItem, ...]
    held: dict[str, ThreadItem]
    """The held items as they were when the batch was taken."""


@dataclass(frozen=True, slots=True)
class Written:
    """What one statement wrote and read."""

    thread_data: str | None
    """The stored thread's JSON as the statement found it (None when not asked for)."""
    seqs: dict[str, int]
    """Each written item's place in the thread."""
    newest: list[tuple[int, str]]
    """The newest stored items before the statement, (seq, JSON), oldest first."""


@dataclass(slots=True)
class TurnWrites:
    """The turn's writes still held, and whether its record is written."""

    record: TurnStart | None = None
    """The turn's record (None: this context keeps no record, as in tests of the store alone)."""
    recorded: bool = False
    thread: ThreadMetadata | None = None
    """A held save of the turn's thread."""
    thread_is_new: bool = False
    """The turn creates its thread and has not written it yet."""
    items: dict[str, ThreadItem] = field(default_factory=dict)
    """Held items by id, in the order first held (a later save replaces, keeping the place)."""
    generated: set[str] = field(default_factory=set)
    """Ids of items generated in this turn: such an item is new, so newer than all others."""

    def batch(self, *, then: ThreadItem | None = None) -> Batch:
        """The held writes, with `then` last (written after the held items: its place is after
        theirs), or in place of its held version."""
        items = dict(self.items)
        if then is not None:
            items[then.id] = then
        return Batch(
            record=self.record if not self.recorded else None,
            thread=self.thread,
            thread_is_new=self.thread_is_new,
            items=tuple(items.values()),
            held=dict(self.items),
        )

    def written(self, batch: Batch) -> None:
        """`batch` is committed: forget what it wrote (a write held meanwhile stays held)."""
        if batch.record is not None:
            self.recorded = True
        if batch.thread is not None:
            self.thread_is_new = False
        if self.thread is batch.thread:
            self.thread = None
        for item_id, item in batch.held.items():
            if self.items.get(item_id) is item:
                del self.items[item_id]

    def pending(self) -> bool:
        """Something is held, or the record is not written yet."""
        return self.holds_writes() or (self.record is not None and not self.recorded)

    def holds_writes(self) -> bool:
        return self.thread is not None or bool(self.items)

    def forget_held(self) -> None:
        """Drop the held thread and items (their thread is gone); the record stays."""
        self.thread, self.items = None, {}


class _Args:
    """Bound parameters, numbered as they are added; never caller text in the SQL."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any, cast: str) -> str:
        self.values.append(value)
        return f"${len(self.values)}::{cast}"


_NEW_THREAD = """INSERT INTO threads (id, user_id, created_at, title, data)
    VALUES ({id}, {user}, {created}, {title}, {data})
    ON CONFLICT (id) DO UPDATE
        SET title = excluded.title, data = excluded.data, updated_at = now()
        WHERE threads.user_id = excluded.user_id
    RETURNING id, user_id, data"""

# A held rename of a thread that exists: never an upsert, so a thread deleted meanwhile stays
# deleted (and the items written with it are refused).
_THREAD_UPDATE = """UPDATE threads SET title = {title}, data = {data}, updated_at = now()
    WHERE id = {id} AND user_id = {user}
    RETURNING id, user_id, data"""

_THREAD = "SELECT id, user_id, data FROM threads WHERE id = {id} AND user_id = {user}"

_RECORD_RUNNING = """INSERT INTO turns (turn_id, user_id, thread_id, status, queued_at)
    VALUES ({turn}, {user}, {thread}, 'running', {queued})
    ON CONFLICT (turn_id) DO NOTHING"""

# Inserted closed when the turn never wrote its record; a record already closed (a gateway took
# the worker for lost) keeps its status.
_RECORD_CLOSED = """INSERT INTO turns
        (turn_id, user_id, thread_id, status, error, queued_at, finished_at)
    VALUES ({turn}, {user}, {thread}, {status}, {error}, {queued}, now())
    ON CONFLICT (turn_id) DO UPDATE
        SET status = excluded.status, error = excluded.error, finished_at = excluded.finished_at
        WHERE turns.status = 'running' AND turns.user_id = excluded.user_id"""

_USAGE = """INSERT INTO turn_usage (user_id, thread_id, turn_id, model, requests,
        input_tokens, output_tokens, tool_calls)
    VALUES ({values})"""

# As `UPSERT_ITEM` (sql.py), for several items in their order: `seq` is taken in the order the
# rows are inserted, which the ORDER BY fixes. An item of another thread or user is not written
# (and not returned).
_ITEMS = """INSERT INTO thread_items (id, thread_id, user_id, type, created_at, data)
    SELECT i.id, t.id, t.user_id, i.type, i.created_at, i.data::jsonb
    FROM thread t, unnest({ids}, {types}, {created}, {data})
        WITH ORDINALITY AS i(id, type, created_at, data, n)
    ORDER BY i.n
    ON CONFLICT (id) DO UPDATE
        SET type = excluded.type, data = excluded.data
        WHERE thread_items.thread_id = excluded.thread_id
          AND thread_items.user_id = excluded.user_id
    RETURNING id, seq"""

# The newest items as the statement's snapshot has them (without what it writes itself).
_NEWEST = """SELECT 2, NULL::text, seq, data FROM (
        SELECT seq, data FROM thread_items WHERE thread_id = {id} AND user_id = {user}
        ORDER BY seq DESC LIMIT {limit}
    ) newest"""


_PART_0 = "SELECT 0 AS part, NULL::text AS id, NULL::bigint AS seq, data"
_NO_ROWS = "SELECT 0 AS part, NULL::text AS id, NULL::bigint AS seq, NULL::jsonb AS data"


def _needs_thread(batch: Batch, newest: int | None) -> bool:
    """The statement writes or reads the thread's rows, so the thread must be the user's."""
    return batch.thread is not None or bool(batch.items) or newest is not None


def turn_statement(
    user_id: str,
    thread_id: str | None,
    batch: Batch,
    *,
    newest: int | None = None,
    close: TurnClose | None = None,
    start: TurnStart | None = None,
) -> tuple[str, list[Any]]:
    """One statement writing `batch` (and closing the record of `start` with `close`), that
    returns rows (part, id, seq, data): part 0 the thread (its stored data), part 1 each written
    item's seq, part 2 the `newest` items before the statement."""
    arg = _Args()
    user = arg(user_id, "text")
    ctes: list[str] = []
    selects: list[str] = []
    needs_thread = _needs_thread(batch, newest)
    if needs_thread:
        if thread_id is None:
            raise ValueError("writing items needs the turn's thread")
        tid = arg(thread_id, "text")
        if batch.thread is not None:
            data = arg(codec.dump_thread(batch.thread), "jsonb")
            title = arg(batch.thread.title, "text")
            if batch.thread_is_new:
                created = arg(aware(batch.thread.created_at), "timestamptz")
                sql = _NEW_THREAD.format(id=tid, user=user, created=created, title=title, data=data)
            else:
                sql = _THREAD_UPDATE.format(id=tid, user=user, title=title, data=data)
        else:
            sql = _THREAD.format(id=tid, user=user)
        ctes.append(f"thread AS ({sql})")
        selects.append(f"{_PART_0} FROM thread")
    record = start if close is not None else batch.record
    if record is not None:
        values = {
            "turn": arg(record.turn_id, "text"),
            "user": user,
            "thread": arg(record.thread_id or thread_id, "text"),
            "queued": arg(record.queued_at, "timestamptz"),
        }
        if close is None:
            ctes.append(f"record AS ({_RECORD_RUNNING.format(**values)})")
        else:
            status, error = arg(close.status, "text"), arg(close.error, "text")
            sql = _RECORD_CLOSED.format(status=status, error=error, **values)
            ctes.append(f"record AS ({sql})")
    if close is not None and close.usage is not None:
        if close.usage.user_id != user_id:
            raise ValueError("a turn's usage is its user's")
        casts = ("text", "text", "text", "text", "int4", "int4", "int4", "int4")
        row = ", ".join(arg(v, c) for v, c in zip(usage_row(close.usage), casts, strict=True))
        ctes.append(f"usage AS ({_USAGE.format(values=row)})")
    if batch.items:
        sql = _ITEMS.format(
            ids=arg([i.id for i in batch.items], "text[]"),
            types=arg([i.type for i in batch.items], "text[]"),
            created=arg([aware(i.created_at) for i in batch.items], "timestamptz[]"),
            data=arg([codec.dump_item(i) for i in batch.items], "text[]"),
        )
        ctes.append(f"written AS ({sql})")
        selects.append("SELECT 1, id, seq, NULL::jsonb FROM written")
    if newest is not None:
        assert thread_id is not None
        selects.append(
            _NEWEST.format(id=arg(thread_id, "text"), user=user, limit=arg(newest, "int4"))
        )
    if not selects:  # nothing to read back: an empty result of the same shape
        selects.append(f"{_NO_ROWS} WHERE false")
    with_clause = "WITH " + ",\n".join(ctes) + "\n" if ctes else ""
    return with_clause + "\nUNION ALL\n".join(selects), arg.values


async def write_turn(
    conn: Connection,
    user_id: str,
    thread_id: str | None,
    batch: Batch,
    *,
    newest: int | None = None,
    close: TurnClose | None = None,
    start: TurnStart | None = None,
) -> Written:
    """Run `turn_statement` on `conn` (in the user's transaction). `NotFoundError` when the
    thread is not the user's (or is gone) or an item belongs elsewhere: the caller's transaction
    must then roll back, so nothing of the batch is half written."""
    sql, args = turn_statement(user_id, thread_id, batch, newest=newest, close=close, start=start)
    try:
        rows = await conn.fetch(sql, *args)
    except asyncpg.ForeignKeyViolationError:
        rows = None  # the thread was deleted while the statement ran
    except asyncpg.InsufficientPrivilegeError:
        rows = None  # an item id of another user's: row security refused the upsert
    needs_thread = _needs_thread(batch, newest)
    threads = [] if rows is None else [row for row in rows if row["part"] == 0]
    seqs = {} if rows is None else {row["id"]: int(row["seq"]) for row in rows if row["part"] == 1}
    if rows is None or (needs_thread and not threads) or len(seqs) != len(batch.items):
        raise NotFoundError(f"Thread {thread_id} not found")
    newest_rows = sorted((int(row["seq"]), row["data"]) for row in rows if row["part"] == 2)
    return Written(
        thread_data=threads[0]["data"] if threads else None, seqs=seqs, newest=newest_rows
    )
