"""PostgresStore user scoping, attachments, feedback and thread deletion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    FileAttachment,
    ImageAttachment,
    ThreadMetadata,
)

from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore

ALICE = RequestContext(user_id="alice")
BOB = RequestContext(user_id="bob")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def reply(item_id: str, thread_id: str = "thr_a") -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=NOW,
        content=[AssistantMessageContent(text="hello")],
    )


def file(attachment_id: str, thread_id: str | None = None) -> FileAttachment:
    return FileAttachment(
        id=attachment_id, name="notes.txt", mime_type="text/plain", thread_id=thread_id
    )


@pytest.fixture
async def store(db_pool: DbPool) -> PostgresStore:
    """Alice owns thr_a (items msg_1, msg_2; attachment atc_a); Bob owns thr_b."""
    store = PostgresStore(db_pool)
    await store.save_thread(ThreadMetadata(id="thr_a", created_at=NOW, title="Alice's"), ALICE)
    await store.save_thread(ThreadMetadata(id="thr_b", created_at=NOW), BOB)
    await store.add_thread_item("thr_a", reply("msg_1"), ALICE)
    await store.add_thread_item("thr_a", reply("msg_2"), ALICE)
    await store.save_attachment(file("atc_a", "thr_a"), ALICE)
    return store


async def count(pool: DbPool, table: str) -> int:
    value = await pool.fetchval(f"SELECT count(*) FROM {table}")
    assert isinstance(value, int)
    return value


async def test_other_users_threads_are_invisible(store: PostgresStore) -> None:
    with pytest.raises(NotFoundError):
        await store.load_thread("thr_a", BOB)
    bobs = await store.load_threads(10, None, "desc", BOB)
    assert [t.id for t in bobs.data] == ["thr_b"]
    with pytest.raises(NotFoundError):
        await store.load_threads(10, "thr_a", "desc", BOB)  # cursor from Alice's list


async def test_other_user_cannot_overwrite_a_thread(store: PostgresStore) -> None:
    with pytest.raises(NotFoundError):
        await store.save_thread(ThreadMetadata(id="thr_a", created_at=NOW, title="Bob's"), BOB)
    assert (await store.load_thread("thr_a", ALICE)).title == "Alice's"


async def test_other_user_cannot_touch_items(store: PostgresStore) -> None:
    with pytest.raises(NotFoundError):
        await store.load_thread_items("thr_a", None, 10, "asc", BOB)
    with pytest.raises(NotFoundError):
        await store.load_recent_items("thr_a", 10, BOB)
    with pytest.raises(NotFoundError):
        await store.load_item("thr_a", "msg_1", BOB)
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_a", reply("msg_bob"), BOB)
    with pytest.raises(NotFoundError):
        await store.save_item("thr_a", reply("msg_1"), BOB)
    with pytest.raises(NotFoundError):
        await store.delete_thread_item("thr_a", "msg_1", BOB)
    # Reusing Alice's item id in Bob's own thread must not steal or alter her item.
    with pytest.raises(NotFoundError):
        await store.add_thread_item("thr_b", reply("msg_1", "thr_b"), BOB)
    page = await store.load_thread_items("thr_a", None, 10, "asc", ALICE)
    assert page.data == [reply("msg_1"), reply("msg_2")]


async def test_other_user_cannot_delete_a_thread(store: PostgresStore) -> None:
    with pytest.raises(NotFoundError):
        await store.delete_thread("thr_a", BOB)
    assert (await store.load_thread("thr_a", ALICE)).id == "thr_a"


async def test_attachments_round_trip_and_are_scoped(store: PostgresStore) -> None:
    image = ImageAttachment(
        id="atc_img", name="a.png", mime_type="image/png", preview_url="https://x.test/a.png"
    )
    await store.save_attachment(image, ALICE)
    assert await store.load_attachment("atc_img", ALICE) == image
    # Sending it in a message later sets its thread.
    moved = image.model_copy(update={"thread_id": "thr_a"})
    await store.save_attachment(moved, ALICE)
    assert await store.load_attachment("atc_img", ALICE) == moved

    with pytest.raises(NotFoundError):
        await store.load_attachment("atc_a", BOB)
    with pytest.raises(NotFoundError):
        await store.save_attachment(file("atc_a"), BOB)
    with pytest.raises(NotFoundError):
        await store.delete_attachment("atc_a", BOB)
    with pytest.raises(NotFoundError):  # Bob cannot attach to Alice's thread
        await store.save_attachment(file("atc_bob", "thr_a"), BOB)
    assert await store.load_attachment("atc_a", ALICE) == file("atc_a", "thr_a")

    await store.delete_attachment("atc_a", ALICE)
    with pytest.raises(NotFoundError):
        await store.load_attachment("atc_a", ALICE)


async def test_feedback_is_upserted_and_scoped(store: PostgresStore, db_pool: DbPool) -> None:
    await store.add_feedback("thr_a", ["msg_1", "msg_2"], "positive", ALICE)
    await store.add_feedback("thr_a", ["msg_1"], "negative", ALICE)
    assert await store.load_feedback("thr_a", ALICE) == {"msg_1": "negative", "msg_2": "positive"}
    assert await count(db_pool, "feedback") == 2

    with pytest.raises(NotFoundError):
        await store.add_feedback("thr_a", ["msg_1"], "negative", BOB)
    with pytest.raises(NotFoundError):
        await store.load_feedback("thr_a", BOB)
    with pytest.raises(NotFoundError):  # an item that is not in the thread
        await store.add_feedback("thr_a", ["msg_1", "msg_missing"], "positive", ALICE)
    assert await store.load_feedback("thr_a", ALICE) == {"msg_1": "negative", "msg_2": "positive"}
    assert await store.load_feedback("thr_b", BOB) == {}


async def test_delete_thread_removes_everything_of_it(
    store: PostgresStore, db_pool: DbPool
) -> None:
    await store.add_feedback("thr_a", ["msg_1"], "positive", ALICE)
    await store.save_attachment(file("atc_unsent"), ALICE)  # not in any thread: kept

    await store.delete_thread("thr_a", ALICE)

    with pytest.raises(NotFoundError):
        await store.load_thread("thr_a", ALICE)
    with pytest.raises(NotFoundError):
        await store.delete_thread("thr_a", ALICE)
    assert await count(db_pool, "thread_items") == 0
    assert await count(db_pool, "feedback") == 0
    assert await db_pool.fetchval("SELECT array_agg(id) FROM attachments") == ["atc_unsent"]
    assert [t.id for t in (await store.load_threads(10, None, "asc", BOB)).data] == ["thr_b"]
