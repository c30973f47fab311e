"""A turn's writes as few statements (`TurnStore`, `TurnWrites`, `TurnRecords.close`): the first
one records the turn and returns the newest items with the user's message; the assistant's items
are held until the turn's next statement or its close, which writes them with the record and the
usage. Statements are counted on the connections themselves (asyncpg's query logger)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import msgspec
import pytest
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    ClientToolCallItem,
    ThreadMetadata,
    WidgetItem,
)

from shared.db.pool import DbPool
from shared.store.postgres_store import PostgresStore
from shared.store.thread_reads import ThreadReads
from shared.store.turn_store import TurnContext, TurnStore
from shared.store.turn_writes import TurnStart, TurnWrites
from shared.tasks.widget import task_list_widget
from shared.turns.messages import Turn, decode_turn, encode_turn
from shared.turns.records import WORKER_LOST, TurnRecords
from shared.usage.repository import TurnUsage, UsageRepository
from tests.integration.turn_threads import (
    ALICE,
    SAME_TIME,
    reply,
    stored_thread,
    user_message,
)


class Statements:
    """Every statement the pool's connections run, in order."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, record: asyncpg.connection.LoggedQuery) -> None:
        query = record.query.strip()
        # asyncpg's look-up of a type it has no codec for yet (array parameters): once per
        # connection, then cached.
        if "typeinfo_tree" not in query and "set_config('jit'" not in query:
            self.seen.append(query)

    def since(self, mark: int) -> list[str]:
        return self.seen[mark:]


@pytest.fixture
async def counted(db_pool: DbPool, database_url: str) -> AsyncIterator[tuple[DbPool, Statements]]:
    """A second pool on the test database (emptied by `db_pool`) whose statements are logged."""
    statements = Statements()

    async def log(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        conn.add_query_logger(statements)

    async def nothing(conn: asyncpg.Connection[asyncpg.Record]) -> None:
        """As the services' pools (`shared/db/pool.py`): no reset statement on release."""

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2, init=log, reset=nothing)
    try:
        yield pool, statements
    finally:
        await pool.close()


def turn_context(
    turn_id: str = "turn-1",
    *,
    user_id: str = "alice",
    seed: ThreadMetadata | None = None,
    creates_thread: bool = False,
) -> TurnContext:
    """A worker's context for a turn, seeded (as `TurnRunner` does) with the gateway's read."""
    reads = ThreadReads(creates_thread=creates_thread)
    if seed is not None:
        reads.seed(seed)
    start = TurnStart(
        turn_id=turn_id, thread_id=None if creates_thread else "thr_t", queued_at=SAME_TIME
    )
    return TurnContext(
        user_id=user_id, turn_id=turn_id, reads=reads, writes=TurnWrites(record=start)
    )


def usage_of(turn_id: str) -> TurnUsage:
    return TurnUsage(
        user_id="alice", thread_id="thr_t", turn_id=turn_id, model="gemini",
        requests=1, input_tokens=10, output_tokens=20,
    )  # fmt: skip


@pytest.fixture
async def plain(db_pool: DbPool) -> PostgresStore:
    return await stored_thread(db_pool, [f"msg_{n}" for n in range(3)])


async def stored_ids(plain: PostgresStore, thread_id: str = "thr_t") -> list[str]:
    page = await plain.load_thread_items(thread_id, None, 50, "asc", ALICE)
    return [item.id for item in page.data]


async def record_of(db_pool: DbPool, turn_id: str) -> tuple[str, str | None, str | None] | None:
    row = await db_pool.fetchrow(
        "SELECT status, error, thread_id FROM turns WHERE turn_id = $1", turn_id
    )
    return None if row is None else (row["status"], row["error"], row["thread_id"])


async def test_a_turn_on_an_existing_thread_costs_two_transactions(
    plain: PostgresStore, db_pool: DbPool, counted: tuple[DbPool, Statements]
) -> None:
    pool, statements = counted
    store, records = TurnStore(pool, newest_items=5), TurnRecords(pool)
    context = turn_context(seed=await plain.load_thread("thr_t", ALICE))

    # chatkit's add_user_message: load the thread, store the message, read the history...
    await store.load_thread("thr_t", context)
    assert statements.seen == []  # the gateway's read was passed on
    await store.add_thread_item("thr_t", user_message("msg_user"), context)
    first = statements.since(0)
    assert len(first) == 4 and first[0] == "BEGIN" and first[-1] == "COMMIT", "\n\n".join(first)
    assert first[2].startswith("WITH thread AS")  # record + message + newest: one statement
    # ...durable before the model is called, with the turn's record.
    assert await stored_ids(plain) == ["msg_0", "msg_1", "msg_2", "msg_user"]
    assert await record_of(db_pool, "turn-1") == ("running", None, "thr_t")

    history = await store.load_recent_items("thr_t", 5, context)
    assert [i.id for i in history] == ["msg_0", "msg_1", "msg_2", "msg_user"]
    answer = store.generate_item_id("message", await store.load_thread("thr_t", context), context)
    await store.add_thread_item("thr_t", reply(answer), context)
    assert len(statements.seen) == 4  # held
    # The turn's own reads see what it holds.
    page = await store.load_thread_items("thr_t", None, 2, "desc", context)
    assert [i.id for i in page.data] == [answer, "msg_user"] and page.has_more
    assert await store.load_item("thr_t", answer, context) == reply(answer)
    assert await stored_ids(plain) == ["msg_0", "msg_1", "msg_2", "msg_user"]

    await records.close(context, "completed", None, usage_of("turn-1"))
    last = statements.since(4)
    assert len(last) == 4 and last[0] == "BEGIN" and last[-1] == "COMMIT", last
    assert await stored_ids(plain) == ["msg_0", "msg_1", "msg_2", "msg_user", answer]
    assert await record_of(db_pool, "turn-1") == ("completed", None, "thr_t")
    assert await UsageRepository(db_pool).for_turn("alice", "turn-1") == [usage_of("turn-1")]
    # Every statement ran in the user's scope.
    scopes = [s for s in statements.seen if s.startswith("SELECT set_config('role'")]
    assert len(scopes) == 2 and all("taskchat.user_id" in s for s in scopes)


async def test_a_new_thread_is_written_with_its_first_message(
    db_pool: DbPool, plain: PostgresStore, counted: tuple[DbPool, Statements]
) -> None:
    pool, statements = counted
    store, records = TurnStore(pool, newest_items=5), TurnRecords(pool)
    context = turn_context(creates_thread=True)
    thread = ThreadMetadata(id="thr_new", created_at=SAME_TIME)
    await store.save_thread(thread, context)
    assert statements.seen == []
    await store.add_thread_item("thr_new", user_message("msg_user", "thr_new"), context)
    assert len(statements.seen) == 4
    assert await stored_ids(plain, "thr_new") == ["msg_user"]
    # The record names the thread the turn created.
    assert await record_of(db_pool, "turn-1") == ("running", None, "thr_new")

    answer = store.generate_item_id("message", thread, context)
    await store.add_thread_item("thr_new", reply(answer, "thr_new"), context)
    titled = await store.load_thread("thr_new", context)
    titled.title = "A title"
    await store.save_thread(titled, context)
    assert len(statements.seen) == 4
    await records.close(context, "completed", None, None)
    assert len(statements.seen) == 8
    assert await stored_ids(plain, "thr_new") == ["msg_user", answer]
    assert (await plain.load_thread("thr_new", ALICE)).title == "A title"
    assert await record_of(db_pool, "turn-1") == ("completed", None, "thr_new")


async def test_held_items_are_written_before_the_next_statement_in_order(
    plain: PostgresStore, db_pool: DbPool
) -> None:
    store = TurnStore(db_pool, newest_items=5)
    context = turn_context(seed=await plain.load_thread("thr_t", ALICE))
    await store.add_thread_item("thr_t", user_message("msg_user"), context)
    thread = await store.load_thread("thr_t", context)
    first, second = (store.generate_item_id("message", thread, context) for _ in range(2))
    await store.add_thread_item("thr_t", reply(first), context)
    await store.add_thread_item("thr_t", reply(second), context)
    changed = reply(first).model_copy(update={"content": [AssistantMessageContent(text="x")]})
    await store.save_item("thr_t", changed, context)  # replaced where it is held
    # What the client sent is written at once, after what the turn held.
    tool_call = ClientToolCallItem(
        id="msg_tool", thread_id="thr_t", created_at=SAME_TIME, status="completed",
        call_id="call_1", name="tool", arguments={}, output="done",
    )  # fmt: skip
    await store.save_item("thr_t", tool_call, context)
    assert await stored_ids(plain) == [
        "msg_0", "msg_1", "msg_2", "msg_user", first, second, "msg_tool",
    ]  # fmt: skip
    assert await plain.load_item("thr_t", first, ALICE) == changed
    # A widget too: its buttons may be pressed (and the press answered by a gateway, from the
    # database) before the turn ends.
    widget = WidgetItem(
        id=store.generate_item_id("message", thread, context), thread_id="thr_t",
        created_at=SAME_TIME, widget=task_list_widget([], "all"),
    )  # fmt: skip
    await store.add_thread_item("thr_t", widget, context)
    assert (await stored_ids(plain))[-1] == widget.id
    # A delete writes what is held first, too.
    third = store.generate_item_id("message", thread, context)
    await store.add_thread_item("thr_t", reply(third), context)
    await store.delete_thread_item("thr_t", second, context)
    assert (await stored_ids(plain))[-3:] == ["msg_tool", widget.id, third]
    newest = await store.load_recent_items("thr_t", 3, context)
    # (By id: a widget read back from JSON is not equal to the object that was stored.)
    assert [i.id for i in newest] == [
        i.id for i in await plain.load_recent_items("thr_t", 3, ALICE)
    ]


async def test_a_turn_that_wrote_nothing_still_gets_its_record(db_pool: DbPool) -> None:
    records = TurnRecords(db_pool)
    await records.close(turn_context("turn-quiet"), "cancelled", None, None)
    assert await record_of(db_pool, "turn-quiet") == ("cancelled", None, "thr_t")
    # One closed already (by a gateway that took its worker for lost) keeps its status, and
    # what the model was paid for is still counted.
    await records.lost("turn-lost", "alice", "thr_t")
    assert await record_of(db_pool, "turn-lost") == ("failed", WORKER_LOST, "thr_t")
    await records.close(turn_context("turn-lost"), "completed", None, usage_of("turn-lost"))
    assert await record_of(db_pool, "turn-lost") == ("failed", WORKER_LOST, "thr_t")
    assert await UsageRepository(db_pool).for_turn("alice", "turn-lost") == [usage_of("turn-lost")]


async def test_a_late_first_statement_keeps_a_lost_turn_failed(
    plain: PostgresStore, db_pool: DbPool
) -> None:
    records = TurnRecords(db_pool)
    await records.lost("turn-1", "alice", "thr_t")  # the gateway gave up on a slow worker
    store = TurnStore(db_pool, newest_items=5)
    context = turn_context(seed=await plain.load_thread("thr_t", ALICE))
    await store.add_thread_item("thr_t", user_message("msg_user"), context)
    assert await record_of(db_pool, "turn-1") == ("failed", WORKER_LOST, "thr_t")
    await records.close(context, "completed", None, None)
    assert await record_of(db_pool, "turn-1") == ("failed", WORKER_LOST, "thr_t")
    assert "msg_user" in await stored_ids(plain)


async def test_a_crashed_worker_loses_only_what_the_model_said(
    plain: PostgresStore, db_pool: DbPool
) -> None:
    store = TurnStore(db_pool, newest_items=5)
    context = turn_context(seed=await plain.load_thread("thr_t", ALICE))
    await store.add_thread_item("thr_t", user_message("msg_user"), context)
    thread = await store.load_thread("thr_t", context)
    await store.add_thread_item(
        "thr_t", reply(store.generate_item_id("message", thread, context)), context
    )
    del context  # the worker dies: its held answer with it, never its close
    assert await stored_ids(plain) == ["msg_0", "msg_1", "msg_2", "msg_user"]
    # The turn is recorded as running, so the sweeper (or a gateway) can close it.
    records = TurnRecords(db_pool)
    assert await records.running_since(0) == ["turn-1"]
    await records.failed("turn-1", WORKER_LOST)
    assert await record_of(db_pool, "turn-1") == ("failed", WORKER_LOST, "thr_t")


async def test_a_thread_deleted_mid_turn_fails_the_held_writes_not_the_record(
    plain: PostgresStore, db_pool: DbPool
) -> None:
    store, records = TurnStore(db_pool, newest_items=5), TurnRecords(db_pool)
    context = turn_context(seed=await plain.load_thread("thr_t", ALICE))
    await store.add_thread_item("thr_t", user_message("msg_user"), context)
    thread = await store.load_thread("thr_t", context)
    answer = store.generate_item_id("message", thread, context)
    await store.add_thread_item("thr_t", reply(answer), context)
    await plain.delete_thread("thr_t", ALICE)
    with pytest.raises(NotFoundError):  # nothing of the close is written
        await records.close(context, "completed", None, usage_of("turn-1"))
    assert await record_of(db_pool, "turn-1") == ("running", None, "thr_t")
    # What `TurnRunner._record` does then: the record and usage without the held items.
    context.writes.forget_held()
    await records.close(context, "completed", None, usage_of("turn-1"))
    assert await record_of(db_pool, "turn-1") == ("completed", None, "thr_t")
    assert await UsageRepository(db_pool).for_turn("alice", "turn-1") == [usage_of("turn-1")]
    assert await db_pool.fetchval("SELECT count(*) FROM thread_items") == 0
    # A held rename does not bring a deleted thread back either.
    renamed = turn_context("turn-2", seed=thread)
    thread.title = "Renamed"
    await store.save_thread(thread, renamed)
    with pytest.raises(NotFoundError):
        await store.flush(renamed)
    assert await db_pool.fetchval("SELECT count(*) FROM threads") == 0


async def test_a_thread_deleted_before_the_first_statement_is_not_found(
    plain: PostgresStore, db_pool: DbPool
) -> None:
    store = TurnStore(db_pool, newest_items=5)
    context = turn_context(seed=await plain.load_thread("thr_t", ALICE))
    await plain.delete_thread("thr_t", ALICE)
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_t", user_message("msg_user"), context)
    # Rolled back: not even the record; the close writes it.
    assert await record_of(db_pool, "turn-1") is None
    await TurnRecords(db_pool).close(context, "failed", "not found", None)
    assert await record_of(db_pool, "turn-1") == ("failed", "not found", "thr_t")


async def test_another_users_thread_is_not_written(plain: PostgresStore, db_pool: DbPool) -> None:
    store = TurnStore(db_pool, newest_items=5)
    # Even a turn that somehow believed alice's thread to be bob's writes nothing to it.
    bob = turn_context(user_id="bob", seed=await plain.load_thread("thr_t", ALICE))
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_t", user_message("msg_bob"), bob)
    # Nor can an item id of alice's be taken over.
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_t", user_message("msg_0"), bob)
    assert await stored_ids(plain) == ["msg_0", "msg_1", "msg_2"]
    assert await db_pool.fetchval("SELECT count(*) FROM turns") == 0


def test_a_turn_from_before_thread_data_still_decodes() -> None:
    older = msgspec.msgpack.encode(
        {"turn_id": "t", "user_id": "alice", "request": b"{}", "enqueued_at_ms": 1}
    )
    assert decode_turn(older).thread_data is None
    passed = Turn(turn_id="t", user_id="a", request=b"{}", enqueued_at_ms=1, thread_data="{}")
    assert decode_turn(encode_turn(passed)).thread_data == "{}"
