"""The task list widget end to end: listed by the model, then changed by its buttons, no model.

`threads.custom_action` runs on a worker (streamed); `threads.sync_custom_action` is answered by
the gateway. Both re-render the widget item in place and persist it.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from tests.e2e.conftest import System

pytestmark = pytest.mark.e2e


def task_rows(database_url: str, user_id: str) -> list[tuple[str, bool]]:
    async def query() -> list[tuple[str, bool]]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT title, completed FROM tasks WHERE user_id = $1 ORDER BY id", user_id
            )
            return [(row["title"], row["completed"]) for row in rows]
        finally:
            await conn.close()

    return asyncio.run(query())


def model_requests(system: System) -> int:
    # Only the count: the shape of the emulator's log entries is not this test's business.
    response = httpx.get(f"{system.emulator_url}/emulator/requests", timeout=10)
    response.raise_for_status()
    return len(response.json())


def buttons(widget: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each task row's buttons by label, for the first row."""
    row = widget["children"][0]
    return {c["label"]: c["onClickAction"] for c in row["children"] if c["type"] == "Button"}


def action(action_config: dict[str, Any]) -> dict[str, Any]:
    # What the browser sends: the action's type and payload, not its client-side settings.
    return {"type": action_config["type"], "payload": action_config["payload"]}


def test_widget_action_round_trip(system: System) -> None:
    user = f"wendy-{uuid.uuid4().hex[:8]}"
    client = ChatKitClient(system.gateway_url, system.token(user))
    stranger = ChatKitClient(system.gateway_url, system.token(f"mallory-{uuid.uuid4().hex[:8]}"))
    database_url = system.env["DATABASE_URL"]
    try:
        thread_id = client.create_thread("add task buy milk").thread_id
        listed = client.add_message(thread_id, "list my tasks")
        assert "error" not in [e["type"] for e in listed.raw_events], listed.raw_events
        widgets = [i for i in listed.done_items() if i["type"] == "widget"]
        assert len(widgets) == 1, listed.raw_events
        widget_item = widgets[0]
        assert widget_item["copy_text"].endswith("buy milk")
        complete = buttons(widget_item["widget"])["Complete"]
        assert complete["type"] == "task.complete"
        assert complete["payload"]["status"] == "all"

        # Streamed: the worker completes the task and replaces the widget, without the model.
        before = model_requests(system)
        pressed = client.stream(
            {
                "type": "threads.custom_action",
                "params": {
                    "thread_id": thread_id,
                    "item_id": widget_item["id"],
                    "action": action(complete),
                },
            }
        )
        assert pressed.status_code == 200
        assert "error" not in [e["type"] for e in pressed.raw_events], pressed.raw_events
        (replaced,) = pressed.of_type("thread.item.replaced")
        assert replaced["item"]["id"] == widget_item["id"]
        assert replaced["item"]["copy_text"].endswith("buy milk (completed)")
        row = replaced["item"]["widget"]["children"][0]
        assert [c["label"] for c in row["children"] if c["type"] == "Badge"] == ["Completed"]
        assert task_rows(database_url, user) == [("buy milk", True)]
        assert model_requests(system) == before

        # Sync: the gateway deletes the task and answers with the updated item.
        delete = buttons(replaced["item"]["widget"])["Delete"]
        answer = client.request(
            {
                "type": "threads.sync_custom_action",
                "params": {
                    "thread_id": thread_id,
                    "item_id": widget_item["id"],
                    "action": action(delete),
                },
            }
        )
        assert answer.status_code == 200, answer.text
        updated = answer.json()["updated_item"]
        assert updated["id"] == widget_item["id"]
        assert updated["copy_text"] == "You have no tasks."
        assert updated["widget"]["children"][0]["key"] == "empty"
        assert task_rows(database_url, user) == []
        assert model_requests(system) == before

        stored = client.request({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
        stored_widget = next(
            i for i in stored.json()["items"]["data"] if i["id"] == widget_item["id"]
        )
        assert stored_widget["copy_text"] == "You have no tasks."
        assert stored_widget["widget"] == updated["widget"]

        # Someone else's thread: 404 before anything is queued or changed.
        foreign = stranger.stream(
            {
                "type": "threads.custom_action",
                "params": {
                    "thread_id": thread_id,
                    "item_id": widget_item["id"],
                    "action": action(complete),
                },
            }
        )
        assert foreign.status_code == 404
        foreign_sync = stranger.request(
            {
                "type": "threads.sync_custom_action",
                "params": {
                    "thread_id": thread_id,
                    "item_id": widget_item["id"],
                    "action": action(delete),
                },
            }
        )
        assert foreign_sync.status_code == 404
    finally:
        client.close()
        stranger.close()


def test_bad_actions_fail_clearly(system: System) -> None:
    client = ChatKitClient(system.gateway_url, system.token(f"victor-{uuid.uuid4().hex[:8]}"))
    try:
        thread_id = client.create_thread("add task buy milk").thread_id
        listed = client.add_message(thread_id, "list my tasks")
        widget_id = next(i["id"] for i in listed.done_items() if i["type"] == "widget")

        def sync(action: dict[str, Any]) -> httpx.Response:
            return client.request(
                {
                    "type": "threads.sync_custom_action",
                    "params": {"thread_id": thread_id, "item_id": widget_id, "action": action},
                }
            )

        unknown = sync({"type": "task.archive", "payload": {"task_id": 1}})
        assert unknown.status_code == 400
        assert "Unknown action 'task.archive'" in unknown.json()["detail"]
        missing = sync({"type": "task.complete", "payload": {"task_id": 999_999}})
        assert missing.status_code == 404
        assert missing.json()["detail"] == "Task 999999 was not found"

        streamed = client.stream(
            {
                "type": "threads.custom_action",
                "params": {
                    "thread_id": thread_id,
                    "item_id": widget_id,
                    "action": {"type": "task.delete", "payload": {"task_id": "x"}},
                },
            }
        )
        (error,) = streamed.of_type("error")
        assert error["allow_retry"] is False
        assert "task_id: Input should be a valid integer" in error["message"]
        assert streamed.of_type("thread.item.replaced") == []
    finally:
        client.close()
