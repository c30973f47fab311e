"""Every ChatKit request type through the real gateway and worker, on its happy path and its
error paths; every answer is checked against chatkit's own types."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from chatkit.types import (
    ClientToolCallItem,
    Page,
    StructuredInputFreeform,
    StructuredInputItem,
    Thread,
    ThreadItem,
)
from pydantic import TypeAdapter

from services.chatkit_client.client import ChatKitClient, StreamedTurn
from services.chatkit_client.requests import user_input
from tests.e2e.conftest import System
from tests.e2e.emulator_control import EmulatorControl
from tests.e2e.seed import fetch_value, seed_items

pytestmark = pytest.mark.e2e

THREAD = TypeAdapter(Thread)
THREAD_PAGE = TypeAdapter(Page[Thread])
ITEM_PAGE = TypeAdapter(Page[ThreadItem])


class Conversation:
    """A user with one thread that has had one exchange."""

    def __init__(self, system: System) -> None:
        self.user = f"matrix-{uuid.uuid4().hex[:8]}"
        self.system = system
        self.client = ChatKitClient(system.gateway_url, system.token(self.user))
        self.first = self.client.create_thread("add task matrix milk")
        assert not self.first.of_type("error"), self.first.raw_events
        self.thread_id = self.first.thread_id

    def items(self) -> list[dict[str, Any]]:
        response = self.client.request(
            {
                "type": "items.list",
                "params": {"thread_id": self.thread_id, "limit": 100, "order": "asc"},
            }
        )
        assert response.status_code == 200
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def item_of_type(self, item_type: str) -> dict[str, Any]:
        return next(i for i in self.items() if i["type"] == item_type)


@pytest.fixture
def conversation(system: System) -> Iterator[Conversation]:
    conv = Conversation(system)
    try:
        yield conv
    finally:
        conv.client.close()


@pytest.fixture
def stranger(system: System) -> Iterator[ChatKitClient]:
    client = ChatKitClient(system.gateway_url, system.token(f"stranger-{uuid.uuid4().hex[:8]}"))
    try:
        yield client
    finally:
        client.close()


def ok_stream(turn: StreamedTurn) -> StreamedTurn:
    assert turn.status_code == 200
    assert not turn.of_type("error"), turn.raw_events
    assert turn.raw_events[0]["type"] in ("thread.created", "thread.item.done", "stream_options")
    return turn


def stream_error(turn: StreamedTurn) -> dict[str, Any]:
    assert turn.status_code == 200
    errors = turn.of_type("error")
    assert len(errors) == 1, turn.raw_events
    assert errors[0]["message"]
    return errors[0]


# --- streaming requests ------------------------------------------------------------------------


def test_threads_create(conversation: Conversation) -> None:
    kinds = [e["type"] for e in conversation.first.raw_events]
    assert kinds[0] == "thread.created"
    assert "thread.updated" in kinds  # the new thread got a title


def test_threads_create_with_invalid_input_is_400(conversation: Conversation) -> None:
    response = conversation.client.request(
        {"type": "threads.create", "params": {"input": {"content": "not a list"}}}
    )
    assert response.status_code == 400
    assert "input" in response.json()["detail"]


def test_threads_add_user_message(conversation: Conversation, stranger: ChatKitClient) -> None:
    ok_stream(conversation.client.add_message(conversation.thread_id, "list my tasks"))
    assert stranger.add_message(conversation.thread_id, "hi").status_code == 404
    assert conversation.client.add_message("thr_missing", "hi").status_code == 404


def test_threads_retry_after_item(conversation: Conversation, stranger: ChatKitClient) -> None:
    user_message = conversation.item_of_type("user_message")
    before = conversation.items()
    request = {
        "type": "threads.retry_after_item",
        "params": {"thread_id": conversation.thread_id, "item_id": user_message["id"]},
    }
    retried = ok_stream(conversation.client.stream(request))
    assert retried.assistant_text()
    after = conversation.items()
    # Everything after the user message was replaced by the regenerated answer.
    assert after[0]["id"] == user_message["id"]
    old_ids = {i["id"] for i in before[1:]}
    assert old_ids.isdisjoint(i["id"] for i in after[1:])

    assistant = conversation.item_of_type("assistant_message")
    wrong = {
        "type": "threads.retry_after_item",
        "params": {"thread_id": conversation.thread_id, "item_id": assistant["id"]},
    }
    assert conversation.client.request(wrong).status_code == 400
    missing = {
        "type": "threads.retry_after_item",
        "params": {"thread_id": conversation.thread_id, "item_id": "msg_missing"},
    }
    assert conversation.client.request(missing).status_code == 404
    assert stranger.request(request).status_code == 404


def test_threads_add_client_tool_output(conversation: Conversation) -> None:
    # The seeded call below was never issued by the model, so it has no thought signature to
    # send back; tell the emulator not to insist on one (as Gemini before version 3 does not).
    emulator = EmulatorControl(conversation.system.emulator_url)
    emulator.behave(require_signatures=False)
    request = {
        "type": "threads.add_client_tool_output",
        "params": {"thread_id": conversation.thread_id, "result": {"ok": True}},
    }
    # No pending client tool call yet: a clear error event, not a hung stream.
    assert stream_error(conversation.client.stream(request))["allow_retry"] is False

    seed_items(
        conversation.system.env["DATABASE_URL"],
        conversation.user,
        [
            ClientToolCallItem(
                id=f"cti_{uuid.uuid4().hex}",
                thread_id=conversation.thread_id,
                created_at=datetime.now(),
                call_id=f"call_{uuid.uuid4().hex}",
                name="get_selected_text",
                arguments={},
            )
        ],
    )
    try:
        ok_stream(conversation.client.stream(request))
    finally:
        emulator.reset()
        emulator.close()
    tool_item = conversation.item_of_type("client_tool_call")
    assert tool_item["status"] == "completed"
    assert tool_item["output"] == {"ok": True}


def test_threads_add_structured_input(conversation: Conversation) -> None:
    question_id = f"si_{uuid.uuid4().hex}"
    seed_items(
        conversation.system.env["DATABASE_URL"],
        conversation.user,
        [
            StructuredInputItem(
                id=question_id,
                thread_id=conversation.thread_id,
                created_at=datetime.now(),
                inputs=[StructuredInputFreeform(id="when", question="When is it due?")],
            )
        ],
    )
    request: dict[str, Any] = {
        "type": "threads.add_structured_input",
        "params": {
            "thread_id": conversation.thread_id,
            "item_id": question_id,
            "input": {"status": "answered", "answers": {"when": {"values": ["friday"]}}},
        },
    }
    answered = ok_stream(conversation.client.stream(request))
    replaced = answered.of_type("thread.item.replaced")
    assert replaced and replaced[0]["item"]["status"] == "answered"

    not_structured = conversation.item_of_type("assistant_message")["id"]
    request["params"]["item_id"] = not_structured
    assert stream_error(conversation.client.stream(request))["allow_retry"] is False
    request["params"]["item_id"] = "si_missing"
    assert conversation.client.request(request).status_code == 404


def test_threads_custom_action_on_a_thread_of_someone_else(
    conversation: Conversation, stranger: ChatKitClient
) -> None:
    request = {
        "type": "threads.custom_action",
        "params": {
            "thread_id": conversation.thread_id,
            "item_id": None,
            "action": {"type": "task.complete", "payload": {"task_id": 1}},
        },
    }
    assert stranger.request(request).status_code == 404


# --- non-streaming requests --------------------------------------------------------------------


def test_threads_get_by_id(conversation: Conversation, stranger: ChatKitClient) -> None:
    request = {"type": "threads.get_by_id", "params": {"thread_id": conversation.thread_id}}
    response = conversation.client.request(request)
    assert response.status_code == 200
    thread = THREAD.validate_python(response.json())
    assert thread.id == conversation.thread_id
    assert thread.title  # set after the first exchange
    assert stranger.request(request).status_code == 404


def test_threads_list(conversation: Conversation, stranger: ChatKitClient) -> None:
    second = conversation.client.create_thread("hello second").thread_id
    response = conversation.client.request(
        {"type": "threads.list", "params": {"limit": 1, "order": "desc"}}
    )
    assert response.status_code == 200
    page = THREAD_PAGE.validate_python(response.json())
    assert [t.id for t in page.data] == [second]
    assert page.has_more and page.after == second
    rest = conversation.client.request(
        {"type": "threads.list", "params": {"limit": 5, "order": "desc", "after": page.after}}
    ).json()
    assert [t["id"] for t in rest["data"]] == [conversation.thread_id]
    assert (
        THREAD_PAGE.validate_python(
            stranger.request({"type": "threads.list", "params": {}}).json()
        ).data
        == []
    )
    bad = conversation.client.request({"type": "threads.list", "params": {"order": "sideways"}})
    assert bad.status_code == 400


def test_items_list(conversation: Conversation, stranger: ChatKitClient) -> None:
    request = {"type": "items.list", "params": {"thread_id": conversation.thread_id, "limit": 2}}
    response = conversation.client.request(request)
    assert response.status_code == 200
    page = ITEM_PAGE.validate_python(response.json())
    assert len(page.data) == 2 and page.has_more
    assert all(item.type != "hidden_context_item" for item in page.data)
    assert stranger.request(request).status_code == 404


def test_items_feedback(conversation: Conversation, stranger: ChatKitClient) -> None:
    assistant = conversation.item_of_type("assistant_message")["id"]
    request: dict[str, Any] = {
        "type": "items.feedback",
        "params": {
            "thread_id": conversation.thread_id,
            "item_ids": [assistant],
            "kind": "positive",
        },
    }
    response = conversation.client.request(request)
    assert response.status_code == 200 and response.json() == {}
    stored = fetch_value(
        conversation.system.env["DATABASE_URL"],
        "SELECT kind FROM feedback WHERE thread_id = $1 AND item_id = $2",
        conversation.thread_id,
        assistant,
    )
    assert stored == "positive"
    assert stranger.request(request).status_code == 404
    request["params"]["kind"] = "lukewarm"
    assert conversation.client.request(request).status_code == 400


def test_threads_update(conversation: Conversation, stranger: ChatKitClient) -> None:
    request = {
        "type": "threads.update",
        "params": {"thread_id": conversation.thread_id, "title": "Groceries"},
    }
    response = conversation.client.request(request)
    assert response.status_code == 200
    assert THREAD.validate_python(response.json()).title == "Groceries"
    assert stranger.request(request).status_code == 404


def test_threads_delete_removes_everything(
    conversation: Conversation, stranger: ChatKitClient
) -> None:
    request = {"type": "threads.delete", "params": {"thread_id": conversation.thread_id}}
    assert stranger.request(request).status_code == 404
    response = conversation.client.request(request)
    assert response.status_code == 200 and response.json() == {}
    get = {"type": "threads.get_by_id", "params": {"thread_id": conversation.thread_id}}
    assert conversation.client.request(get).status_code == 404
    left = fetch_value(
        conversation.system.env["DATABASE_URL"],
        "SELECT count(*) FROM thread_items WHERE thread_id = $1",
        conversation.thread_id,
    )
    assert left == 0
    assert conversation.client.request(request).status_code == 404


def test_unknown_request_type_is_400(conversation: Conversation) -> None:
    response = conversation.client.request({"type": "threads.teleport", "params": {}})
    assert response.status_code == 400


def test_history_carries_earlier_tool_results(system: System, conversation: Conversation) -> None:
    import httpx

    httpx.delete(f"{system.emulator_url}/emulator/requests")
    ok_stream(conversation.client.add_message(conversation.thread_id, "what did you add?"))
    sent = httpx.get(f"{system.emulator_url}/emulator/requests").json()[0]
    body = sent.get("request", sent)
    calls = [c for m in body["messages"] for c in (m.get("tool_calls") or [])]
    outputs = [m for m in body["messages"] if m["role"] == "tool"]
    assert [c["function"]["name"] for c in calls] == ["create_task"]
    assert '"title": "matrix milk"' in outputs[0]["content"]
    assert outputs[0]["tool_call_id"] == calls[0]["id"]


def test_user_input_shape(conversation: Conversation) -> None:
    # The helper used by every test builds what chatkit accepts.
    assert set(user_input("x")) == {"content", "attachments", "inference_options"}


def test_a_thread_of_5000_items_sends_a_bounded_prompt(
    system: System, conversation: Conversation
) -> None:
    import httpx
    from chatkit.types import (
        AssistantMessageContent,
        AssistantMessageItem,
        InferenceOptions,
        UserMessageItem,
        UserMessageTextContent,
    )

    old: list[ThreadItem] = []
    for n in range(2500):
        old.append(
            UserMessageItem(
                id=f"msg_old_u{n:05d}",
                thread_id=conversation.thread_id,
                created_at=datetime.now(),
                content=[UserMessageTextContent(text=f"old question {n}")],
                attachments=[],
                inference_options=InferenceOptions(),
            )
        )
        old.append(
            AssistantMessageItem(
                id=f"msg_old_a{n:05d}",
                thread_id=conversation.thread_id,
                created_at=datetime.now(),
                content=[AssistantMessageContent(text=f"old answer {n}")],
            )
        )
    seed_items(system.env["DATABASE_URL"], conversation.user, old)
    count = fetch_value(
        system.env["DATABASE_URL"],
        "SELECT count(*) FROM thread_items WHERE thread_id = $1",
        conversation.thread_id,
    )
    assert isinstance(count, int) and count > 5000

    httpx.delete(f"{system.emulator_url}/emulator/requests")
    turn = ok_stream(conversation.client.add_message(conversation.thread_id, "hello long thread"))
    assert "hello long thread" in turn.assistant_text()
    sent = httpx.get(f"{system.emulator_url}/emulator/requests").json()[0]
    messages = sent.get("request", sent)["messages"]
    # The system prompt plus at most AGENT_HISTORY_ITEMS (50) items, ending with the new message.
    assert len(messages) <= 51
    assert messages[-1]["content"][0]["text"] == "hello long thread"
    assert messages[1]["role"] == "user"  # the window starts at a user message


def test_input_transcribe_when_switched_off_is_400(conversation: Conversation) -> None:
    response = conversation.client.request(
        {"type": "input.transcribe", "params": {"audio_base64": "AAAA", "mime_type": "audio/webm"}}
    )
    assert response.status_code == 400
    assert "TRANSCRIPTION_ENABLED=true" in response.json()["detail"]


def test_attachments_delete_of_an_unknown_attachment_is_404(conversation: Conversation) -> None:
    response = conversation.client.request(
        {"type": "attachments.delete", "params": {"attachment_id": "atc_missing"}}
    )
    assert response.status_code == 404
