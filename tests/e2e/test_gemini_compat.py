"""The worker stays correct under everything Gemini's OpenAI-compatible endpoint does.

Each test drives the real gateway and worker processes against the emulator, which behaves like
Gemini (index-less whole tool calls, `finish_reason: "stop"` after tool calls, thought signatures
it checks like Gemini 3 does, cumulative usage on every chunk, JSON-array errors).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import httpx
import pytest
from chatkit.types import ClientToolCallItem
from redis.asyncio import Redis

from services.agent.gemini.signatures import SignatureScope, SignatureStore, call_key
from services.chatkit_client.client import ChatKitClient, StreamedTurn
from services.chatkit_client.requests import user_input
from shared.db.pool import create_pool
from shared.settings import DEFAULT_GEMINI_MODEL, DatabaseSettings
from shared.usage.repository import UsageRepository
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl
from tests.e2e.seed import seed_items

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(
        backends,
        tmp_path_factory,
        "e2e-compat",
        {
            "GEMINI_ALLOWED_MODELS": "gemini-2.5-pro",
            "GEMINI_RETRY_MAX_DELAY_S": "0.2",
            "EMULATOR_RETRY_AFTER_S": "0",
        },
    ) as running:
        yield running


@pytest.fixture
def emulator(system: System) -> Iterator[EmulatorControl]:
    control = EmulatorControl(system.emulator_url)
    control.reset()
    try:
        yield control
    finally:
        control.reset()
        control.close()


@pytest.fixture
def client(system: System) -> Iterator[ChatKitClient]:
    chat = ChatKitClient(system.gateway_url, system.token(f"user-{uuid.uuid4().hex[:8]}"))
    try:
        yield chat
    finally:
        chat.close()


def task_titles(turn: StreamedTurn) -> list[str]:
    return [
        task["title"]
        for item in turn.done_items()
        if item["type"] == "workflow"
        for task in item["workflow"]["tasks"]
    ]


def assert_no_error(turn: StreamedTurn) -> None:
    assert turn.status_code == 200
    assert not turn.of_type("error"), turn.raw_events


def test_parallel_tool_calls_each_run_with_their_own_arguments(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    turn = client.create_thread("add milk and eggs")
    assert_no_error(turn)
    assert task_titles(turn) == ["Creating task 'milk'", "Creating task 'eggs'"]
    answer = turn.assistant_text()
    assert "milk" in answer and "eggs" in answer, answer
    # Both results went back to the model, one per call id.
    follow_up = emulator.agent_requests()[-1]["request"]
    tool_messages = [m for m in follow_up["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 2
    assert len({m["tool_call_id"] for m in tool_messages}) == 2


def test_tool_turns_ending_with_stop_still_run_the_tools(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    emulator.behave(tool_finish_reason="stop")
    turn = client.create_thread("add task buy bread")
    assert_no_error(turn)
    assert task_titles(turn) == ["Creating task 'buy bread'"]


def test_cut_stream_is_an_error_and_the_partial_text_is_not_stored(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    turn = client.create_thread("tell me something long please [[fail:cut]]")
    errors = turn.of_type("error")
    assert len(errors) == 1, turn.raw_events
    assert errors[0]["allow_retry"] is True
    assert "cut off" in errors[0]["message"]
    stored = client.request(
        {"type": "threads.get_by_id", "params": {"thread_id": turn.thread_id}}
    ).json()
    assert [item["type"] for item in stored["items"]["data"]] == ["user_message"]
    # Text had already streamed, so the call was not retried.
    assert len(emulator.agent_requests()) == 1


@pytest.mark.parametrize("placement", ["first_call", "trailing_delta"])
def test_thought_signatures_go_back_exactly_as_received(
    client: ChatKitClient, emulator: EmulatorControl, placement: str
) -> None:
    emulator.behave(signature_placement=placement, require_signatures=True)
    turn = client.create_thread("add task water plants")
    assert_no_error(turn)
    exchanges = emulator.agent_requests()
    assert len(exchanges) == 2
    assert exchanges[1]["response"]["status"] == 200
    call = exchanges[1]["request"]["messages"][-2]["tool_calls"][0]
    assert call["extra_content"]["google"]["thought_signature"]


def test_empty_tool_call_ids_do_not_break_the_turn(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    emulator.behave(empty_tool_call_ids=True)
    turn = client.create_thread("add task empty ids")
    assert_no_error(turn)
    assert task_titles(turn) == ["Creating task 'empty ids'"]


def test_usage_is_counted_once_per_model_call(
    system: System, client: ChatKitClient, emulator: EmulatorControl
) -> None:
    turn = client.create_thread("add task count tokens")
    assert_no_error(turn)
    # Two agent calls (tool call, then answer) and the new thread's title call.
    reported = [e["response"]["usage"] for e in emulator.requests()]
    assert len(reported) == 3

    async def recorded() -> list[tuple[int, int, int]]:
        pool = await create_pool(DatabaseSettings(url=system.env["DATABASE_URL"]))
        try:
            repo = UsageRepository(pool)
            rows = await repo.for_turn(client_user(client), turn.headers["x-turn-id"])
            return [(r.requests, r.input_tokens, r.output_tokens) for r in rows]
        finally:
            await pool.close()

    expected = (
        3,
        sum(u["prompt_tokens"] for u in reported),
        sum(u["completion_tokens"] for u in reported),
    )
    assert asyncio.run(recorded()) == [expected]


def client_user(client: ChatKitClient) -> str:
    import jwt

    token = client.http.headers["authorization"].removeprefix("Bearer ")
    user: str = jwt.decode(token, options={"verify_signature": False})["sub"]
    return user


def existing_thread(client: ChatKitClient, emulator: EmulatorControl) -> str:
    """A thread that already has its title, so the next turn makes exactly one model call."""
    thread_id = client.create_thread("hello first").thread_id
    emulator.reset()
    return thread_id


def test_rate_limits_are_retried_before_any_token(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    thread_id = existing_thread(client, emulator)
    emulator.fail_next("429", count=2)
    turn = client.add_message(thread_id, "hello after a rate limit")
    assert_no_error(turn)
    assert "hello after a rate limit" in turn.assistant_text()
    statuses = [e["response"]["status"] for e in emulator.agent_requests()]
    assert statuses == [429, 429, 200]


def test_persistent_overload_tells_the_user_to_retry(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    thread_id = existing_thread(client, emulator)
    emulator.fail_next("503", count=10)
    turn = client.add_message(thread_id, "hello while overloaded")
    errors = turn.of_type("error")
    assert len(errors) == 1, turn.raw_events
    assert errors[0]["message"] == "The assistant is busy, try again in a moment."
    assert errors[0]["allow_retry"] is True
    assert len(emulator.agent_requests()) == 4  # the first try and GEMINI_MAX_RETRIES=3 retries


def test_fields_gemini_rejects_are_never_sent(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    assert_no_error(client.create_thread("add task check fields"))
    for exchange in emulator.agent_requests():
        assert not {"store", "metadata", "google"} & exchange["request"].keys()


def test_length_finish_without_output_is_a_clear_error(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    turn = client.create_thread("hello [[fail:length]]")
    errors = turn.of_type("error")
    assert len(errors) == 1, turn.raw_events
    assert "ran out of room" in errors[0]["message"]


def test_a_request_may_choose_an_allowed_model(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    request_input = user_input("hello pro")
    request_input["inference_options"] = {"model": "gemini-2.5-pro"}
    turn = client.stream({"type": "threads.create", "params": {"input": request_input}})
    assert_no_error(turn)
    assert emulator.agent_requests()[-1]["request"]["model"] == "gemini-2.5-pro"

    request_input["inference_options"] = {"model": "gpt-4o"}
    refused = client.request({"type": "threads.create", "params": {"input": request_input}})
    assert refused.status_code == 400
    assert "gpt-4o" in refused.json()["detail"]


def test_signature_goes_back_after_a_client_tool_call(
    system: System, client: ChatKitClient, emulator: EmulatorControl
) -> None:
    """A client tool call ends the turn; its output comes back in a new turn, perhaps to another
    worker. The signature the model gave with the call must still go back with it."""
    thread_id = existing_thread(client, emulator)
    # The model asks for a call in this conversation (Gemini 3 binds the signature to it), as it
    # would in the turn that produced the client tool call...
    issued = httpx.post(
        f"{system.env['GEMINI_BASE_URL']}chat/completions",
        headers={"Authorization": "Bearer x"},
        json={
            "model": system.env.get("GEMINI_MODEL", DEFAULT_GEMINI_MODEL),
            "messages": [
                {"role": "user", "content": "hello first"},
                {"role": "user", "content": "add task from the client"},
            ],
            "tools": [{"type": "function", "function": {"name": "create_task"}}],
        },
    ).json()["choices"][0]["message"]["tool_calls"][0]
    # ...and the worker that received it recorded its signature in the thread (what
    # `normalize_stream` does).
    redis_client = Redis.from_url(system.env["REDIS_URL"])
    signature = issued["extra_content"]["google"]["thought_signature"]
    scope = SignatureScope(user_id=client_user(client), thread_id=thread_id)
    function = issued["function"]
    key = call_key(issued["id"], function["name"], function["arguments"])
    asyncio.run(_save_signature(redis_client, scope, key, signature))
    seed_items(
        system.env["DATABASE_URL"],
        client_user(client),
        [
            ClientToolCallItem(
                id=f"cti_{uuid.uuid4().hex}",
                thread_id=thread_id,
                created_at=datetime.now(),
                call_id=issued["id"],
                name=issued["function"]["name"],
                arguments=json.loads(issued["function"]["arguments"]),
            )
        ],
    )
    emulator.reset()
    emulator.behave(require_signatures=True)
    turn = client.stream(
        {
            "type": "threads.add_client_tool_output",
            "params": {"thread_id": thread_id, "result": {"done": True}},
        }
    )
    assert_no_error(turn)
    sent = emulator.agent_requests()[0]["request"]["messages"]
    call = next(m for m in sent if m.get("tool_calls"))["tool_calls"][0]
    assert call["extra_content"]["google"]["thought_signature"] == signature


async def _save_signature(
    redis_client: Redis, scope: SignatureScope, key: str, signature: str
) -> None:
    try:
        await SignatureStore(redis_client).save(scope, {key: signature})
    finally:
        await redis_client.aclose()


def first_user_text(request: dict[str, Any]) -> str:
    first = next(m for m in request["messages"] if m["role"] == "user")
    content = first["content"]
    return content if isinstance(content, str) else " ".join(p.get("text", "") for p in content)


def sent_signatures(request: dict[str, Any]) -> dict[str, str]:
    """Call id -> the thought signature a request sent back with it."""
    return {
        call["id"]: call["extra_content"]["google"]["thought_signature"]
        for message in request["messages"]
        for call in message.get("tool_calls") or []
        if (call.get("extra_content") or {}).get("google", {}).get("thought_signature")
    }


def test_colliding_call_ids_in_two_threads_never_exchange_signatures(
    system: System, emulator: EmulatorControl
) -> None:
    """Gemini 3's call ids are unique only within a conversation: two threads get the same id
    for their first call. Each thread's later turns must get back its own signature, never the
    other's (the emulator refuses a signature issued in another conversation, as it binds them
    to their conversation)."""
    openings = {"alpha": "add task alpha errand", "beta": "add task beta errand"}
    users = {name: f"user-{name}-{uuid.uuid4().hex[:8]}" for name in openings}
    clients = {
        name: ChatKitClient(system.gateway_url, system.token(users[name])) for name in openings
    }
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            turns = pool.map(lambda n: clients[n].create_thread(openings[n]), openings)
            firsts = dict(zip(openings, turns, strict=True))
            for turn in firsts.values():
                assert_no_error(turn)
            issued = {  # what each conversation's own first turn sent back, within the turn
                name: sent_signatures(
                    next(
                        e["request"]
                        for e in emulator.agent_requests()
                        if first_user_text(e["request"]) == text and sent_signatures(e["request"])
                    )
                )
                for name, text in openings.items()
            }
            assert issued["alpha"].keys() == issued["beta"].keys(), issued  # the ids collide
            assert issued["alpha"] != issued["beta"]
            emulator.reset()
            seconds = list(
                pool.map(
                    lambda n: clients[n].add_message(firsts[n].thread_id, f"{n}: what now"),
                    openings,
                )
            )
        for turn in seconds:
            assert_no_error(turn)
        for name, text in openings.items():
            replayed = [
                sent_signatures(e["request"])
                for e in emulator.agent_requests()
                if first_user_text(e["request"]) == text
            ]
            assert replayed and all(sent == issued[name] for sent in replayed), (name, replayed)
            assert all(e["response"]["status"] == 200 for e in emulator.agent_requests())
    finally:
        for chat in clients.values():
            chat.close()


def test_an_empty_answer_after_a_tool_result_is_asked_again(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    emulator.fail_next("empty_after_tool", count=1)
    turn = client.create_thread("add task ask me twice")
    assert_no_error(turn)
    answer = turn.assistant_text()
    assert answer.startswith("Done: I added task #") and answer.endswith("'ask me twice'.")
    answers = [e["response"]["text"] for e in emulator.agent_requests()]
    assert answers == ["", "", answer]  # the tool call, the empty answer, the one asked again


def test_two_empty_answers_after_a_tool_result_become_an_honest_message(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    emulator.fail_next("empty_after_tool", count=2)
    turn = client.create_thread("add task never answered")
    assert_no_error(turn)
    text = turn.assistant_text()
    assert text.startswith("The assistant ran its tools but gave no answer"), text
    assert "create_task: " in text and "never answered" in text
    stored = client.request(
        {"type": "threads.get_by_id", "params": {"thread_id": turn.thread_id}}
    ).json()
    messages = [i for i in stored["items"]["data"] if i["type"] == "assistant_message"]
    assert [m["content"][0]["text"] for m in messages] == [text]


def test_titles_come_from_the_model_despite_thinking(
    client: ChatKitClient, emulator: EmulatorControl
) -> None:
    """Thinking tokens count against `max_tokens`: a title call capped at a few tokens would get
    no text from a thinking model, and every thread would be named after its first words."""
    turn = client.create_thread("please remember the milk today")
    assert_no_error(turn)
    thread = client.request(
        {"type": "threads.get_by_id", "params": {"thread_id": turn.thread_id}}
    ).json()
    assert thread["title"] == "Please Remember The Milk Today"  # the emulator's title
    (title_call,) = [e for e in emulator.requests() if not e["request"].get("tools")]
    assert title_call["response"]["failure"] is None
