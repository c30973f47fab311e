"""Thought summaries switched on: shown as a collapsed thought workflow, never as the answer.

The emulator sends its summary the way Gemini does, inside the content (tagged only because
the worker asks for a `thought_tag_marker`; untagged it would read as the answer), so every
assertion here fails if the seam stops separating it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.chatkit_client.client import ChatKitClient, StreamedTurn
from services.gemini_emulator.thoughts import THOUGHT_SUMMARY
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl

pytestmark = pytest.mark.e2e

THOUGHT_WORDS = "Weighing the request"
assert THOUGHT_WORDS in THOUGHT_SUMMARY


@pytest.fixture(scope="module")
def thinking_system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    with running_system(
        backends, tmp_path_factory, "e2e-thoughts", {"GEMINI_INCLUDE_THOUGHTS": "true"}
    ) as running:
        yield running


def thought_workflows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        item
        for item in items
        if item["type"] == "workflow" and item["workflow"]["type"] == "reasoning"
    ]


def thoughts_in(workflow: dict[str, Any]) -> list[str]:
    return [t["content"] for t in workflow["workflow"]["tasks"] if t["type"] == "thought"]


def assistant_texts(items: list[dict[str, Any]]) -> list[str]:
    return [
        "".join(part["text"] for part in item["content"])
        for item in items
        if item["type"] == "assistant_message"
    ]


def streamed_thought(turn: StreamedTurn) -> str:
    """The thought as the stream showed it while it came (task added, then updated)."""
    shown = ""
    for event in turn.of_type("thread.item.updated"):
        update = event["update"]
        if update["type"] in ("workflow.task.added", "workflow.task.updated"):
            task = update["task"]
            if task["type"] == "thought":
                shown = task["content"]
    return shown


def test_the_thought_is_a_collapsed_workflow_and_never_the_answer(
    thinking_system: System,
) -> None:
    emulator = EmulatorControl(thinking_system.emulator_url)
    client = ChatKitClient(
        thinking_system.gateway_url, thinking_system.token(f"thinker-{uuid.uuid4().hex[:8]}")
    )
    try:
        emulator.reset()
        turn = client.create_thread("hello, what can you do?")
        assert not turn.of_type("error"), turn.raw_events

        # The stream opens a reasoning workflow, streams the thought into it ...
        added = [e["item"] for e in turn.of_type("thread.item.added")]
        assert thought_workflows(added), added
        assert streamed_thought(turn) == THOUGHT_SUMMARY
        # ... and closes it, collapsed, before the answer starts.
        done = turn.done_items()
        workflows = thought_workflows(done)
        assert len(workflows) == 1, done
        assert thoughts_in(workflows[0]) == [THOUGHT_SUMMARY]
        assert workflows[0]["workflow"]["expanded"] is False
        kinds = [item["type"] for item in done if item["type"] != "user_message"]
        assert kinds.index("workflow") < kinds.index("assistant_message")

        answer = turn.assistant_text()
        assert answer.strip()
        assert THOUGHT_WORDS not in answer and "thought>" not in answer

        # Stored as a workflow, not as answer text.
        stored = client.request(
            {"type": "items.list", "params": {"thread_id": turn.thread_id, "order": "asc"}}
        ).json()["data"]
        assert [thoughts_in(w) for w in thought_workflows(stored)] == [[THOUGHT_SUMMARY]]
        for text in assistant_texts(stored):
            assert THOUGHT_WORDS not in text and "thought>" not in text

        # A tool round thinks too; the next turn's requests carry no thought as answer text.
        second = client.add_message(turn.thread_id, "add task think it over")
        assert not second.of_type("error"), second.raw_events
        assert THOUGHT_WORDS not in second.assistant_text()
        # Each model call's thought is a task of its own, not run into the one before it.
        second_thoughts = [
            t for w in thought_workflows(second.done_items()) for t in thoughts_in(w)
        ]
        assert second_thoughts == [THOUGHT_SUMMARY, THOUGHT_SUMMARY], second.done_items()
        exchanges = emulator.agent_requests()
        assert len(exchanges) >= 3  # the first answer, the tool call, the answer after it
        for exchange in exchanges:
            assert exchange["request"]["extra_body"]["google"]["thought_tag_marker"] == "thought"
        for exchange in exchanges[1:]:
            sent = json.dumps(exchange["request"]["messages"])
            assert THOUGHT_WORDS not in sent and "thought>" not in sent
    finally:
        emulator.close()
        client.close()
