"""PostgresStore items: stable order, upserts that keep position, pagination, recent history."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    CustomTask,
    InferenceOptions,
    Page,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
    Workflow,
    WorkflowItem,
)

from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore

ALICE = RequestContext(user_id="alice")
# Every item gets the same timestamp: order must come from insertion, not from created_at.
SAME_TIME = datetime(2025, 1, 1, tzinfo=UTC)


def reply(item_id: str, text: str = "hi", thread_id: str = "thr_1") -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=SAME_TIME,
        content=[AssistantMessageContent(text=text)],
    )


def ids(items: list[ThreadItem]) -> list[str]:
    return [item.id for item in items]


@pytest.fixture
async def store(db_pool: DbPool) -> PostgresStore:
    store = PostgresStore(db_pool)
    await store.save_thread(ThreadMetadata(id="thr_1", created_at=SAME_TIME), ALICE)
    return store


async def add_replies(store: PostgresStore, item_ids: list[str]) -> None:
    for item_id in item_ids:
        await store.add_thread_item("thr_1", reply(item_id), ALICE)


async def test_items_of_every_kind_round_trip(store: PostgresStore) -> None:
    items: list[ThreadItem] = [
        UserMessageItem(
            id="msg_u",
            thread_id="thr_1",
            created_at=datetime.now(),  # naive, as chatkit creates them
            content=[UserMessageTextContent(text="add milk")],
            inference_options=InferenceOptions(),
        ),
        reply("msg_a", "Added."),
        WorkflowItem(
            id="wf_1",
            thread_id="thr_1",
            created_at=SAME_TIME,
            workflow=Workflow(type="custom", tasks=[CustomTask(title="Thinking")]),
        ),
    ]
    for item in items:
        await store.add_thread_item("thr_1", item, ALICE)
    for item in items:
        assert await store.load_item("thr_1", item.id, ALICE) == item
    page = await store.load_thread_items("thr_1", None, 10, "asc", ALICE)
    assert page.data == items


async def test_equal_created_at_keeps_insertion_order(store: PostgresStore) -> None:
    # Ids deliberately not in alphabetical order.
    order = ["msg_z", "msg_a", "msg_m", "msg_b"]
    await add_replies(store, order)
    assert ids((await store.load_thread_items("thr_1", None, 10, "asc", ALICE)).data) == order
    desc = await store.load_thread_items("thr_1", None, 10, "desc", ALICE)
    assert ids(desc.data) == order[::-1]


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pagination_with_after_and_has_more(store: PostgresStore, order: str) -> None:
    all_ids = [f"msg_{n}" for n in range(5)]
    await add_replies(store, all_ids)
    expected = all_ids if order == "asc" else all_ids[::-1]

    pages: list[Page[ThreadItem]] = []
    after = None
    while not pages or pages[-1].has_more:
        pages.append(await store.load_thread_items("thr_1", after, 2, order, ALICE))
        after = pages[-1].after

    assert [ids(page.data) for page in pages] == [expected[0:2], expected[2:4], expected[4:]]
    assert [page.has_more for page in pages] == [True, True, False]
    assert [page.after for page in pages] == [expected[1], expected[3], expected[4]]


async def test_empty_thread_page(store: PostgresStore) -> None:
    page = await store.load_thread_items("thr_1", None, 10, "desc", ALICE)
    assert page == Page(data=[], has_more=False, after=None)


async def test_after_must_be_an_item_of_the_thread(store: PostgresStore) -> None:
    await store.save_thread(ThreadMetadata(id="thr_2", created_at=SAME_TIME), ALICE)
    await store.add_thread_item("thr_2", reply("msg_other", thread_id="thr_2"), ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_1", "msg_other", 10, "asc", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_1", "msg_missing", 10, "asc", ALICE)


async def test_add_thread_item_again_updates_in_place(store: PostgresStore) -> None:
    # chatkit re-adds a workflow item it continues across turns.
    await add_replies(store, ["msg_a", "msg_b", "msg_c"])
    await store.add_thread_item("thr_1", reply("msg_a", "edited"), ALICE)
    page = await store.load_thread_items("thr_1", None, 10, "asc", ALICE)
    assert ids(page.data) == ["msg_a", "msg_b", "msg_c"]
    assert await store.load_item("thr_1", "msg_a", ALICE) == reply("msg_a", "edited")


async def test_save_item_replaces_in_place_or_appends(store: PostgresStore) -> None:
    await add_replies(store, ["msg_a", "msg_b"])
    await store.save_item("thr_1", reply("msg_a", "replaced"), ALICE)
    await store.save_item("thr_1", reply("msg_new"), ALICE)
    page = await store.load_thread_items("thr_1", None, 10, "asc", ALICE)
    assert ids(page.data) == ["msg_a", "msg_b", "msg_new"]
    assert page.data[0] == reply("msg_a", "replaced")


async def test_item_id_cannot_move_to_another_thread(store: PostgresStore) -> None:
    await store.save_thread(ThreadMetadata(id="thr_2", created_at=SAME_TIME), ALICE)
    await add_replies(store, ["msg_a"])
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_2", reply("msg_a", thread_id="thr_2"), ALICE)
    assert await store.load_item("thr_1", "msg_a", ALICE) == reply("msg_a")


async def test_delete_thread_item(store: PostgresStore) -> None:
    await add_replies(store, ["msg_a", "msg_b"])
    await store.delete_thread_item("thr_1", "msg_a", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_item("thr_1", "msg_a", ALICE)
    # Removing an item that was never stored is harmless (chatkit does it after guardrails).
    await store.delete_thread_item("thr_1", "msg_never_stored", ALICE)
    assert ids((await store.load_thread_items("thr_1", None, 10, "asc", ALICE)).data) == ["msg_b"]


async def test_load_recent_items_returns_newest_oldest_first(store: PostgresStore) -> None:
    assert await store.load_recent_items("thr_1", 3, ALICE) == []
    await add_replies(store, [f"msg_{n}" for n in range(5)])
    assert ids(await store.load_recent_items("thr_1", 3, ALICE)) == ["msg_2", "msg_3", "msg_4"]
    assert len(await store.load_recent_items("thr_1", 50, ALICE)) == 5


async def test_item_methods_on_a_missing_thread_raise(store: PostgresStore) -> None:
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_missing", reply("msg_a", thread_id="thr_missing"), ALICE)
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_missing", None, 10, "asc", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_recent_items("thr_missing", 10, ALICE)


async def test_huge_page_sizes_are_capped(db_pool: DbPool) -> None:
    from chatkit.types import ThreadMetadata

    from shared.store.postgres_store import MAX_PAGE_SIZE

    store = PostgresStore(db_pool)
    context = RequestContext(user_id="alice")
    await store.save_thread(ThreadMetadata(id="thr_cap", created_at=datetime.now()), context)
    page = await store.load_threads(2**63, None, "asc", context)
    assert len(page.data) == 1 and not page.has_more
    assert MAX_PAGE_SIZE == 100
