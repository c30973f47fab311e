"""One ChatKit conversation end to end: gateway -> Redis queue -> worker -> emulator -> Postgres."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from services.chatkit_client.client import ChatKitClient
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e


def fetch_tasks(database_url: str, user_id: str) -> list[asyncpg.Record]:
    async def query() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(
                "SELECT id, title, completed FROM tasks WHERE user_id = $1 ORDER BY id", user_id
            )
        finally:
            await conn.close()

    return asyncio.run(query())


def test_conversation_creates_lists_and_persists(system: System) -> None:
    user = f"alice-{uuid.uuid4().hex[:8]}"
    client = ChatKitClient(system.gateway_url, system.token(user))
    try:
        first = client.create_thread("add task buy milk")
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/event-stream")
        assert first.headers["cache-control"] == "no-cache"
        assert first.headers["x-accel-buffering"] == "no"
        kinds = [e["type"] for e in first.raw_events]
        assert kinds[0] == "thread.created", kinds
        assert "error" not in kinds, first.raw_events
        assert "buy milk" in first.assistant_text()

        tasks = fetch_tasks(system.env["DATABASE_URL"], user)
        assert [(t["title"], t["completed"]) for t in tasks] == [("buy milk", False)]

        second = client.add_message(first.thread_id, "list my tasks")
        assert second.status_code == 200
        assert "error" not in [e["type"] for e in second.raw_events], second.raw_events
        assert "buy milk" in second.assistant_text()

        stored = client.request(
            {"type": "threads.get_by_id", "params": {"thread_id": first.thread_id}}
        )
        assert stored.status_code == 200
        items = stored.json()["items"]["data"]
        streamed = first.done_items() + second.done_items()
        ids = [item["id"] for item in items]
        assert len(ids) == len(set(ids)), f"duplicate item ids: {ids}"
        assert ids == [item["id"] for item in streamed]
        for stored_item, streamed_item in zip(items, streamed, strict=True):
            assert stored_item["type"] == streamed_item["type"]
            if stored_item["type"] == "assistant_message":
                assert stored_item["content"] == streamed_item["content"]
    finally:
        client.close()


def test_tool_activity_is_streamed_as_a_workflow(system: System) -> None:
    client = ChatKitClient(system.gateway_url, system.token(f"bob-{uuid.uuid4().hex[:8]}"))
    try:
        turn = client.create_thread("add task walk the dog")
        workflows = [i for i in turn.done_items() if i["type"] == "workflow"]
        assert workflows, turn.raw_events
        titles = [t.get("title") for t in workflows[0]["workflow"]["tasks"]]
        assert titles == ["Creating task 'walk the dog'"]
    finally:
        client.close()


def test_users_cannot_see_each_others_threads(system: System) -> None:
    owner = ChatKitClient(system.gateway_url, system.token(f"carol-{uuid.uuid4().hex[:8]}"))
    stranger = ChatKitClient(system.gateway_url, system.token(f"mallory-{uuid.uuid4().hex[:8]}"))
    try:
        thread_id = owner.create_thread("hello there").thread_id
        read = stranger.request({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
        assert read.status_code == 404
        write = stranger.add_message(thread_id, "add task steal")
        assert write.status_code == 404
        listed = stranger.request({"type": "threads.list", "params": {}})
        assert listed.status_code == 200
        assert listed.json()["data"] == []
    finally:
        owner.close()
        stranger.close()
