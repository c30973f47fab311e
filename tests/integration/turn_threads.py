"""The stored thread the turn store, turn write and record tests work on: alice's `thr_t`, with
items whose text is their id, all made at one time."""

from __future__ import annotations

from datetime import UTC, datetime

from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore

SAME_TIME = datetime(2025, 1, 1, tzinfo=UTC)
ALICE = RequestContext(user_id="alice")


def user_message(item_id: str, thread_id: str = "thr_t") -> UserMessageItem:
    return UserMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=SAME_TIME,
        content=[UserMessageTextContent(text=item_id)],
        inference_options=InferenceOptions(),
    )


def reply(item_id: str, thread_id: str = "thr_t") -> AssistantMessageItem:
    return AssistantMessageItem(
        id=item_id,
        thread_id=thread_id,
        created_at=SAME_TIME,
        content=[AssistantMessageContent(text=item_id)],
    )


async def stored_thread(db_pool: DbPool, replies: list[str]) -> PostgresStore:
    """`thr_t` saved through the plain store with one reply per id, in order; that store."""
    store = PostgresStore(db_pool)
    await store.save_thread(ThreadMetadata(id="thr_t", created_at=SAME_TIME), ALICE)
    for item_id in replies:
        await store.add_thread_item("thr_t", reply(item_id), ALICE)
    return store
