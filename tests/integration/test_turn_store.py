"""A turn's reads of its thread: one statement first, then answered from what it read, and kept
current by the turn's own writes (`TurnStore`, `ThreadReads`)."""

from __future__ import annotations

import pytest
from chatkit.store import NotFoundError
from chatkit.types import AssistantMessageContent, ThreadMetadata

from shared.db.pool import DbPool
from shared.store.postgres_store import PostgresStore
from shared.store.thread_reads import ThreadReads
from shared.store.turn_store import CHATKIT_PAGE, TurnContext, TurnStore
from tests.integration.turn_threads import ALICE, SAME_TIME, reply, stored_thread


def turn(*, creates_thread: bool = False) -> TurnContext:
    return TurnContext(
        user_id="alice", turn_id="turn-1", reads=ThreadReads(creates_thread=creates_thread)
    )


@pytest.fixture
async def plain(db_pool: DbPool) -> PostgresStore:
    return await stored_thread(db_pool, [f"msg_{n:02d}" for n in range(30)])


@pytest.fixture
def store(db_pool: DbPool) -> TurnStore:
    return TurnStore(db_pool, newest_items=5)


async def insert_behind_the_stores_back(db_pool: DbPool, item_id: str) -> None:
    # What a second writer would do: the turn's reads cannot see it (a thread runs one turn at
    # a time, so no such writer exists while the turn runs).
    await PostgresStore(db_pool).add_thread_item("thr_t", reply(item_id), ALICE)


async def test_the_turns_reads_equal_the_plain_stores(
    plain: PostgresStore, store: TurnStore
) -> None:
    context = turn()
    assert await store.load_thread("thr_t", context) == await plain.load_thread("thr_t", ALICE)
    assert await store.load_recent_items("thr_t", 5, context) == await plain.load_recent_items(
        "thr_t", 5, ALICE
    )
    for limit in (1, 2, CHATKIT_PAGE):
        assert await store.load_thread_items(
            "thr_t", None, limit, "desc", context
        ) == await plain.load_thread_items("thr_t", None, limit, "desc", ALICE)


async def test_later_reads_come_from_the_first(
    plain: PostgresStore, store: TurnStore, db_pool: DbPool
) -> None:
    context = turn()
    await store.load_thread("thr_t", context)
    await insert_behind_the_stores_back(db_pool, "msg_unseen")
    newest = await store.load_recent_items("thr_t", 3, context)
    assert [i.id for i in newest] == ["msg_27", "msg_28", "msg_29"]
    page = await store.load_thread_items("thr_t", None, 2, "desc", context)
    assert [i.id for i in page.data] == ["msg_29", "msg_28"] and page.has_more
    # What the first read did not hold goes to the database: an older page, another order.
    older = await store.load_thread_items("thr_t", "msg_29", 1, "desc", context)
    assert [i.id for i in older.data] == ["msg_28"]
    first = await store.load_thread_items("thr_t", None, 1, "asc", context)
    assert [i.id for i in first.data] == ["msg_00"]


async def test_the_turns_own_writes_keep_its_reads_current(
    plain: PostgresStore, store: TurnStore
) -> None:
    context = turn()
    await store.load_thread("thr_t", context)
    await store.add_thread_item("thr_t", reply("msg_new"), context)
    changed = reply("msg_28").model_copy(update={"content": [AssistantMessageContent(text="x")]})
    await store.save_item("thr_t", changed, context)  # an upsert keeps its place
    await store.save_item("thr_t", reply("msg_03"), context)  # older than what was read
    await store.delete_thread_item("thr_t", "msg_29", context)
    thread = await store.load_thread("thr_t", context)
    thread.title = "Renamed"
    await store.save_thread(thread, context)
    for limit in (1, 2, 3):
        assert await store.load_recent_items(
            "thr_t", limit, context
        ) == await plain.load_recent_items("thr_t", limit, ALICE)
        assert await store.load_thread_items(
            "thr_t", None, limit, "desc", context
        ) == await plain.load_thread_items("thr_t", None, limit, "desc", ALICE)
    assert (await store.load_thread("thr_t", context)).title == "Renamed"
    # A rename is held until the turn's next statement (or its close, `TurnRecords.close`).
    await store.flush(context)
    assert (await plain.load_thread("thr_t", ALICE)).title == "Renamed"


async def test_a_thread_the_turn_creates_starts_empty_and_complete(
    store: TurnStore, db_pool: DbPool
) -> None:
    context = turn(creates_thread=True)
    await store.save_thread(ThreadMetadata(id="thr_new", created_at=SAME_TIME), context)
    await store.add_thread_item("thr_new", reply("msg_a", "thr_new"), context)
    assert [i.id for i in await store.load_recent_items("thr_new", 5, context)] == ["msg_a"]
    page = await store.load_thread_items("thr_new", None, CHATKIT_PAGE, "desc", context)
    assert [i.id for i in page.data] == ["msg_a"] and not page.has_more


async def test_another_users_thread_is_not_found(plain: PostgresStore, store: TurnStore) -> None:
    bob = TurnContext(user_id="bob", turn_id="turn-2")
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_t", bob)
    with pytest.raises(NotFoundError):
        await store.load_recent_items("thr_t", 3, bob)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_t", None, 2, "desc", bob)
