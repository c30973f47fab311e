"""@-mentions of tasks, the task search behind them, and the explicit stop of a turn.

The emulator streams 25 tokens a second here, so a long message gives a turn several seconds long:
time enough to stop it mid-answer. `ON_DISCONNECT` is left at its default (`continue`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import LONG_MESSAGE, SLOW_MODEL_ENV, EmulatorControl
from tests.e2e.seed import fetch_value
from tests.e2e.sse import read_until, sse_messages

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(backends, tmp_path_factory, "e2e-mentions", SLOW_MODEL_ENV) as running:
        yield running


def rest(system: System, user: str) -> httpx.Client:
    return httpx.Client(
        base_url=system.gateway_url,
        headers={"Authorization": f"Bearer {system.token(user)}"},
        timeout=30,
    )


def new_user() -> str:
    return f"u-{uuid.uuid4().hex[:8]}"


def create_task(system: System, user: str, title: str) -> int:
    with rest(system, user) as http:
        response = http.post("/api/tasks", json={"title": title})
        assert response.status_code == 201, response.text
        task_id: int = response.json()["id"]
        return task_id


def tagged_message(task_id: int, text: str) -> dict[str, Any]:
    """What ChatKit.js sends when the user picks a task from the @-mention search."""
    return {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [
                    {"type": "input_text", "text": "what is the status of "},
                    {
                        "type": "input_tag",
                        "id": str(task_id),
                        "text": text,
                        "data": {"task_id": str(task_id)},
                        "interactive": True,
                    },
                ],
                "attachments": [],
                "inference_options": {},
            }
        },
    }


def model_input_text(emulator: EmulatorControl) -> str:
    """Everything the agent's last model call was given, as text."""
    return json.dumps(emulator.agent_requests()[-1]["request"]["messages"])


def test_a_tagged_task_reaches_the_model_by_id_and_title(system: System) -> None:
    user = new_user()
    task_id = create_task(system, user, "Renew the passport")
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        chat = ChatKitClient(system.gateway_url, system.token(user))
        try:
            turn = chat.stream(tagged_message(task_id, "Renew the passport"))
        finally:
            chat.close()
        assert turn.status_code == 200
        assert not turn.of_type("error"), turn.of_type("error")
        assert "Renew the passport" in turn.assistant_text()
        seen = model_input_text(emulator)
    assert f"task_id={task_id}" in seen
    assert "title='Renew the passport'" in seen


def test_a_tag_of_another_users_task_is_plain_text(system: System) -> None:
    owner, intruder = new_user(), new_user()
    task_id = create_task(system, owner, "Owner's secret plan zebra")
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        chat = ChatKitClient(system.gateway_url, system.token(intruder))
        try:
            turn = chat.stream(tagged_message(task_id, "plan"))
        finally:
            chat.close()
        assert turn.status_code == 200
        assert not turn.of_type("error"), turn.of_type("error")
        seen = model_input_text(emulator)
    assert "zebra" not in seen
    assert f"task_id={task_id}" not in seen
    assert "names none of their tasks" in seen


def test_task_search_finds_only_the_callers_tasks(system: System) -> None:
    alice, bob = new_user(), new_user()
    milk = create_task(system, alice, "Buy milk")
    bread = create_task(system, alice, "buy bread")
    create_task(system, alice, "Walk the dog")
    create_task(system, bob, "Buy socks")
    with rest(system, alice) as http:
        found = http.get("/api/tasks/search", params={"q": "BUY"})
        assert found.status_code == 200, found.text
        assert [t["id"] for t in found.json()["tasks"]] == [bread, milk]
        # LIKE wildcards in the query are literal characters.
        assert http.get("/api/tasks/search", params={"q": "%"}).json()["tasks"] == []
        assert len(http.get("/api/tasks/search").json()["tasks"]) == 3
        assert http.get("/api/tasks/search", params={"q": "a\x00b"}).status_code == 422
        too_many = http.get("/api/tasks/search", params={"q": "buy", "limit": 1000})
        assert too_many.status_code == 422, too_many.text
        assert "limit" in too_many.json()["detail"]
    with httpx.Client(base_url=system.gateway_url) as anonymous:
        assert anonymous.get("/api/tasks/search", params={"q": "buy"}).status_code == 401


def test_stop_cancels_the_turn_and_only_its_author_may_stop_it(system: System) -> None:
    author, stranger = new_user(), new_user()
    request = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": LONG_MESSAGE}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    with rest(system, author) as http, http.stream("POST", "/chatkit", json=request) as response:
        turn_id = response.headers["x-turn-id"]
        messages = sse_messages(response.iter_lines())
        read_until(messages, 3, "thread.item.updated")  # the answer is being written
        with rest(system, stranger) as other:
            refused = other.post(f"/chatkit/turns/{turn_id}/cancel")
        assert refused.status_code == 404, refused.text
        assert http.post(f"/chatkit/turns/{uuid.uuid4().hex}/cancel").status_code == 404
        stopped = http.post(f"/chatkit/turns/{turn_id}/cancel")
        assert stopped.status_code == 202, stopped.text
        # The stream ends (the rest of the answer is never written) ...
        rest_of_stream = [m.type for m in messages]
    assert "thread.item.done" not in rest_of_stream
    # ... and the turn is recorded as stopped by its user.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        status = fetch_value(
            system.env["DATABASE_URL"], "SELECT status FROM turns WHERE turn_id = $1", turn_id
        )
        if status != "running":
            break
        time.sleep(0.1)
    assert status == "cancelled"
    # A stop is a normal end of a turn: the worker logs no unretrieved task errors for it.
    time.sleep(1)  # asyncio reports unretrieved exceptions when the tasks are collected
    worker_log = system.service("worker-1").log()
    assert f"turn {turn_id} cancelled by its client" in worker_log
    assert "Task exception was never retrieved" not in worker_log
