"""PostgresStore threads: round trips, upserts and keyset pagination."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from chatkit.store import NotFoundError
from chatkit.types import LockedStatus, Page, Thread, ThreadMetadata

from shared.db.pool import DbPool
from shared.errors import InvalidInputError
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore

ALICE = RequestContext(user_id="alice")
BASE = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def store(db_pool: DbPool) -> PostgresStore:
    return PostgresStore(db_pool)


def thread(thread_id: str, minutes: int = 0, title: str | None = None) -> ThreadMetadata:
    return ThreadMetadata(id=thread_id, created_at=BASE + timedelta(minutes=minutes), title=title)


async def save_threads(store: PostgresStore, count: int) -> list[str]:
    ids = [f"thr_{n}" for n in range(count)]
    for n, thread_id in enumerate(ids):
        await store.save_thread(thread(thread_id, minutes=n), ALICE)
    return ids


async def all_pages(store: PostgresStore, order: str, limit: int) -> list[Page[ThreadMetadata]]:
    pages: list[Page[ThreadMetadata]] = []
    after = None
    while True:
        page = await store.load_threads(limit, after, order, ALICE)
        pages.append(page)
        if not page.has_more:
            return pages
        after = page.after


def test_generated_ids_have_chatkit_prefixes_and_are_unique(store: PostgresStore) -> None:
    ids = {store.generate_thread_id(ALICE) for _ in range(1000)}
    assert len(ids) == 1000
    assert all(re.fullmatch(r"thr_[0-9a-f]{32}", thread_id) for thread_id in ids)
    meta = thread("thr_x")
    assert store.generate_item_id("message", meta, ALICE).startswith("msg_")
    assert store.generate_item_id("workflow", meta, ALICE).startswith("wf_")
    assert store.generate_item_id("tool_call", meta, ALICE).startswith("tc_")
    assert store.generate_item_id("sdk_hidden_context", meta, ALICE).startswith("shcx_")


async def test_save_and_load_round_trip(store: PostgresStore) -> None:
    saved = ThreadMetadata(
        id="thr_1",
        created_at=BASE,
        title="Groceries",
        status=LockedStatus(reason="archived"),
        metadata={"k": [1, 2]},
    )
    await store.save_thread(saved, ALICE)
    assert await store.load_thread("thr_1", ALICE) == saved


async def test_save_thread_stores_only_metadata_of_a_full_thread(store: PostgresStore) -> None:
    full = Thread(id="thr_1", created_at=BASE, items=Page(data=[], has_more=True))
    await store.save_thread(full, ALICE)
    loaded = await store.load_thread("thr_1", ALICE)
    assert type(loaded) is ThreadMetadata
    assert loaded.id == "thr_1"


async def test_naive_created_at_is_accepted(store: PostgresStore) -> None:
    # chatkit itself stamps threads with a naive datetime.now().
    now = datetime.now()
    await store.save_thread(ThreadMetadata(id="thr_1", created_at=now), ALICE)
    assert (await store.load_thread("thr_1", ALICE)).created_at == now


async def test_save_thread_updates_title_and_keeps_position(store: PostgresStore) -> None:
    await save_threads(store, 3)
    await store.save_thread(thread("thr_0", minutes=0, title="Renamed"), ALICE)
    assert (await store.load_thread("thr_0", ALICE)).title == "Renamed"
    page = await store.load_threads(10, None, "asc", ALICE)
    assert [t.id for t in page.data] == ["thr_0", "thr_1", "thr_2"]


async def test_load_thread_missing_raises(store: PostgresStore) -> None:
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_missing", ALICE)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("desc", [["thr_4", "thr_3"], ["thr_2", "thr_1"], ["thr_0"]]),
        ("asc", [["thr_0", "thr_1"], ["thr_2", "thr_3"], ["thr_4"]]),
    ],
)
async def test_load_threads_paginates_in_both_orders(
    store: PostgresStore, order: str, expected: list[list[str]]
) -> None:
    await save_threads(store, 5)
    pages = await all_pages(store, order, limit=2)
    assert [[t.id for t in page.data] for page in pages] == expected
    assert [page.has_more for page in pages] == [True, True, False]
    assert [page.after for page in pages] == [ids[-1] for ids in expected]


async def test_load_threads_exact_fit_and_empty(store: PostgresStore) -> None:
    assert await store.load_threads(10, None, "desc", ALICE) == Page(data=[], has_more=False)
    await save_threads(store, 2)
    page = await store.load_threads(2, None, "desc", ALICE)
    assert (len(page.data), page.has_more, page.after) == (2, False, "thr_0")


async def test_threads_with_equal_created_at_are_ordered_by_id(store: PostgresStore) -> None:
    for thread_id in ["thr_b", "thr_c", "thr_a"]:
        await store.save_thread(thread(thread_id), ALICE)
    asc = [t.id for page in await all_pages(store, "asc", 1) for t in page.data]
    desc = [t.id for page in await all_pages(store, "desc", 1) for t in page.data]
    assert asc == ["thr_a", "thr_b", "thr_c"]
    assert desc == ["thr_c", "thr_b", "thr_a"]


async def test_load_threads_rejects_bad_arguments(store: PostgresStore) -> None:
    await save_threads(store, 1)
    with pytest.raises(NotFoundError):
        await store.load_threads(10, "thr_missing", "desc", ALICE)
    with pytest.raises(InvalidInputError):
        await store.load_threads(10, None, "sideways", ALICE)
    with pytest.raises(InvalidInputError):
        await store.load_threads(0, None, "asc", ALICE)
