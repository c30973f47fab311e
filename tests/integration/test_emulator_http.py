"""The Gemini emulator over real HTTP (uvicorn on a free port), driven with httpx."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.gemini_emulator.config import EmulatorConfig
from services.gemini_emulator.server import running_emulator

MODEL = "gemini-2.5-flash"
AUTH = {"Authorization": "Bearer test-key"}
TOOLS = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in ("create_task", "list_tasks", "complete_task", "bulk_complete_tasks")
]


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    async with running_emulator() as url:
        yield url


@pytest.fixture
async def client(emulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    # The base URL ends in /v1beta/openai/, so relative paths land under it.
    async with httpx.AsyncClient(base_url=emulator_url, headers=AUTH, timeout=10) as http:
        yield http


@pytest.fixture
async def control(emulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the root-level endpoints (/healthz, /emulator/...)."""
    root = emulator_url.split("/v1beta/")[0]
    async with httpx.AsyncClient(base_url=root, timeout=10) as http:
        yield http


def chat(text: str, *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


async def stream_events(
    client: httpx.AsyncClient, body: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The parsed chunks of an SSE reply, plus the raw body text."""
    async with client.stream("POST", "chat/completions", json=body, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = (await response.aread()).decode()
    events = [
        json.loads(line.removeprefix("data: "))
        for line in raw.split("\n\n")
        if line.startswith("data: {")
    ]
    return events, raw


def assert_gemini_chunks(events: list[dict[str, Any]]) -> None:
    """Invariants of every Gemini stream: one id, role in each delta, cumulative usage."""
    assert events
    assert len({event["id"] for event in events}) == 1
    previous = 0
    for event in events:
        assert event["object"] == "chat.completion.chunk"
        assert event["model"] == MODEL
        assert isinstance(event["created"], int)
        (choice,) = event["choices"]
        assert choice["index"] == 0
        assert choice["delta"]["role"] == "assistant"
        usage = event["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        assert usage["prompt_tokens"] >= 1
        assert usage["completion_tokens"] >= previous
        previous = usage["completion_tokens"]


async def test_health_models_and_auth(
    client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    assert (await control.get("/healthz")).json() == {"status": "ok"}
    models = (await client.get("models")).json()
    assert models["object"] == "list"
    assert {"id": "models/gemini-2.5-flash", "object": "model", "owned_by": "google"} in models[
        "data"
    ]
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        async with httpx.AsyncClient(base_url=client.base_url, headers=headers) as anonymous:
            response = await anonymous.post("chat/completions", json=chat("hi"))
        assert response.status_code == 401
        assert response.json()[0]["error"]["status"] == "UNAUTHENTICATED"


async def test_streamed_text_echo(client: httpx.AsyncClient) -> None:
    events, raw = await stream_events(client, chat("hello there"))
    assert_gemini_chunks(events)
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events) == (
        "You said: hello there"
    )
    assert [e["choices"][0]["finish_reason"] for e in events][-1] == "stop"
    assert all(e["choices"][0]["finish_reason"] is None for e in events[:-1])
    assert events[-1]["usage"]["completion_tokens"] == 4
    assert raw.endswith("data: [DONE]\n\n")


async def test_single_tool_call_shape(client: httpx.AsyncClient) -> None:
    events, raw = await stream_events(client, chat("add task buy milk", tools=TOOLS))
    assert_gemini_chunks(events)
    assert len(events) == 2
    tool_chunk, final = events
    (call,) = tool_chunk["choices"][0]["delta"]["tool_calls"]
    assert set(call) == {"id", "type", "function", "extra_content"}  # no "index"
    assert call["id"]
    assert call["type"] == "function"
    assert call["function"] == {"name": "create_task", "arguments": '{"title":"buy milk"}'}
    assert call["extra_content"]["google"]["thought_signature"]
    assert tool_chunk["choices"][0]["finish_reason"] is None
    assert final["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant"},
        "finish_reason": "stop",
    }
    assert raw.endswith("data: [DONE]\n\n")


async def test_parallel_tool_calls(client: httpx.AsyncClient) -> None:
    events, _ = await stream_events(client, chat("add buy milk and walk dog", tools=TOOLS))
    assert_gemini_chunks(events)
    tool_chunks = [e for e in events if "tool_calls" in e["choices"][0]["delta"]]
    assert len(tool_chunks) == 2
    first, second = (chunk["choices"][0]["delta"]["tool_calls"][0] for chunk in tool_chunks)
    assert [json.loads(c["function"]["arguments"]) for c in (first, second)] == [
        {"title": "buy milk"},
        {"title": "walk dog"},
    ]
    assert first["extra_content"]["google"]["thought_signature"]
    assert "extra_content" not in second
    assert first["id"] != second["id"]
    assert "index" not in first and "index" not in second
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


async def test_tool_result_follow_up_and_signature_round_trip(
    client: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    events, _ = await stream_events(client, chat("add task buy milk", tools=TOOLS))
    call = events[0]["choices"][0]["delta"]["tool_calls"][0]
    follow_up = {
        "model": MODEL,
        "stream": True,
        "tools": TOOLS,
        "messages": [
            {"role": "user", "content": "add task buy milk"},
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {
                "role": "tool",
                "tool_call_id": call["id"],
                "content": '{"id": 12, "title": "buy milk"}',
            },
        ],
    }
    events, _ = await stream_events(client, follow_up)
    assert_gemini_chunks(events)
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    assert text == "Done: I added task #12 'buy milk'."

    logged = (await control.get("/emulator/requests")).json()
    assert len(logged) == 2
    echoed = logged[-1]["request"]["messages"][1]["tool_calls"][0]
    assert echoed["extra_content"] == call["extra_content"]


async def test_non_streaming_text_and_tool_calls(client: httpx.AsyncClient) -> None:
    text = (await client.post("chat/completions", json=chat("hi", stream=False))).json()
    assert text["object"] == "chat.completion"
    assert text["choices"][0]["message"] == {"role": "assistant", "content": "You said: hi"}
    assert text["choices"][0]["finish_reason"] == "stop"
    assert text["usage"]["completion_tokens"] == 3

    body = chat("complete tasks 1, 2 and 3", stream=False, tools=TOOLS)
    tools = (await client.post("chat/completions", json=body)).json()
    choice = tools["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    (call,) = choice["message"]["tool_calls"]
    assert "index" not in call
    assert call["function"]["name"] == "bulk_complete_tasks"
    assert json.loads(call["function"]["arguments"]) == {"task_ids": [1, 2, 3]}


@pytest.mark.parametrize(
    ("code", "status"), [(429, "RESOURCE_EXHAUSTED"), (500, "INTERNAL"), (503, "UNAVAILABLE")]
)
async def test_error_modes_by_header_and_marker(
    client: httpx.AsyncClient, code: int, status: str
) -> None:
    by_header = await client.post(
        "chat/completions", json=chat("hi"), headers={"X-Emulator-Fail": str(code)}
    )
    by_marker = await client.post("chat/completions", json=chat(f"hi [[fail:{code}]]"))
    for response in (by_header, by_marker):
        assert response.status_code == code
        body = response.json()
        assert isinstance(body, list)
        assert body[0]["error"]["code"] == code
        assert body[0]["error"]["status"] == status
        assert ("retry-after" in response.headers) == (code == 429)
    assert by_header.headers.get("retry-after", "1") == "1"
    if code == 429:
        assert by_header.json()[0]["error"]["message"] == (
            "Resource has been exhausted (e.g. check quota)."
        )


async def test_retry_after_is_configurable() -> None:
    async with (
        running_emulator(EmulatorConfig(port=0, retry_after_s=7)) as url,
        httpx.AsyncClient(base_url=url, headers=AUTH) as http,
    ):
        response = await http.post(
            "chat/completions", json=chat("hi"), headers={"X-Emulator-Fail": "429"}
        )
    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


async def test_cut_stream_has_no_finish_and_no_done(client: httpx.AsyncClient) -> None:
    events, raw = await stream_events(client, chat("one two three four five six [[fail:cut]]"))
    assert_gemini_chunks(events)
    assert events
    assert all(e["choices"][0]["finish_reason"] is None for e in events)
    assert "[DONE]" not in raw
    assert "".join(e["choices"][0]["delta"]["content"] for e in events).startswith("You said:")


async def test_length_stream(client: httpx.AsyncClient) -> None:
    events, raw = await stream_events(client, chat("hi"), headers={"X-Emulator-Fail": "length"})
    assert_gemini_chunks(events)
    (only,) = events
    assert only["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant"},
        "finish_reason": "length",
    }
    assert raw.endswith("data: [DONE]\n\n")


async def test_hang_times_out_and_does_not_block_others(client: httpx.AsyncClient) -> None:
    received: list[str] = []

    async def hang() -> None:
        async with client.stream(
            "POST", "chat/completions", json=chat("hi [[fail:hang]]"), timeout=httpx.Timeout(0.5)
        ) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                received.append(line)

    started = time.monotonic()
    hung = asyncio.create_task(hang())
    # While one request hangs, others are served normally.
    events, _ = await stream_events(client, chat("still here"))
    assert events[-1]["choices"][0]["finish_reason"] == "stop"
    with pytest.raises(httpx.ReadTimeout):
        await hung
    assert time.monotonic() - started < 5
    role_only = json.loads(received[0].removeprefix("data: "))
    assert role_only["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant"},
        "finish_reason": None,
    }

    with pytest.raises(httpx.ReadTimeout):
        await client.post(
            "chat/completions",
            json=chat("hi", stream=False),
            headers={"X-Emulator-Fail": "hang"},
            timeout=httpx.Timeout(0.5),
        )


async def test_non_streaming_cut_and_length(client: httpx.AsyncClient) -> None:
    cut = await client.post("chat/completions", json=chat("hi [[fail:cut]]", stream=False))
    assert cut.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    length = await client.post(
        "chat/completions", json=chat("hi", stream=False), headers={"X-Emulator-Fail": "length"}
    )
    assert length.json()["choices"][0]["finish_reason"] == "length"


@pytest.mark.parametrize("field", ["store", "metadata", "google"])
async def test_rejects_openai_only_fields(client: httpx.AsyncClient, field: str) -> None:
    body = {**chat("hi"), field: {}}
    response = await client.post("chat/completions", json=body)
    assert response.status_code == 400
    (error,) = response.json()
    assert error["error"]["status"] == "INVALID_ARGUMENT"
    assert f'Unknown name "{field}"' in error["error"]["message"]


async def test_rejects_malformed_requests(client: httpx.AsyncClient) -> None:
    bad_json = await client.post(
        "chat/completions", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    no_messages = await client.post("chat/completions", json={"model": MODEL})
    bad_mode = await client.post("chat/completions", json=chat("hi [[fail:teapot]]"))
    bad_knob = await client.post(
        "chat/completions", json=chat("hi"), headers={"X-Emulator-Tokens-Per-S": "fast"}
    )
    for response in (bad_json, no_messages, bad_mode, bad_knob):
        assert response.status_code == 400
        assert response.json()[0]["error"]["code"] == 400


async def test_failure_queue(client: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    queued = await control.post("/emulator/failures", json={"mode": "429", "count": 2})
    assert queued.json() == {"queued": ["429", "429"]}
    await control.post("/emulator/failures", json={"mode": "cut"})
    assert (await control.get("/emulator/failures")).json() == {"queued": ["429", "429", "cut"]}

    # A request naming its own failure leaves the queue alone.
    own = await client.post("chat/completions", json=chat("hi"), headers={"X-Emulator-Fail": "503"})
    assert own.status_code == 503
    assert (await client.post("chat/completions", json=chat("hi"))).status_code == 429
    assert (await client.post("chat/completions", json=chat("hi"))).status_code == 429
    _, raw = await stream_events(client, chat("one two three four"))
    assert "[DONE]" not in raw
    _, raw = await stream_events(client, chat("hi"))
    assert raw.endswith("data: [DONE]\n\n")

    await control.post("/emulator/failures", json={"mode": "500", "count": 3})
    assert (await control.delete("/emulator/failures")).status_code == 204
    assert (await client.post("chat/completions", json=chat("hi"))).status_code == 200

    for bad in ({"mode": "teapot"}, {"count": 1}, {"mode": "429", "count": 0}):
        assert (await control.post("/emulator/failures", json=bad)).status_code == 400


async def test_request_log(client: httpx.AsyncClient, control: httpx.AsyncClient) -> None:
    for number in range(55):
        await client.post("chat/completions", json=chat(f"message {number}", stream=False))
    await client.post("chat/completions", json=chat("rejected", store=True))
    logged = (await control.get("/emulator/requests")).json()
    assert len(logged) == 50
    # Rejected requests are logged too, newest last, with what they were answered.
    assert logged[-1]["request"]["store"] is True
    assert logged[-1]["response"]["status"] == 400
    assert logged[-2]["request"]["messages"][0]["content"] == "message 54"
    assert logged[-2]["response"]["status"] == 200
    assert logged[0]["request"]["messages"][0]["content"] == "message 6"
    assert (await control.delete("/emulator/requests")).status_code == 204
    assert (await control.get("/emulator/requests")).json() == []


async def test_pacing_header_delays_first_token(client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    events, _ = await stream_events(
        client,
        chat("a b c"),
        headers={"X-Emulator-First-Token-Delay-Ms": "300", "X-Emulator-Tokens-Per-S": "20"},
    )
    elapsed = time.monotonic() - started
    assert len(events) == 5  # "You ", "said: ", "a ", "b ", "c"
    assert 0.3 + 4 * 0.05 <= elapsed < 3


async def test_text_streams_a_few_words_per_chunk_at_the_same_token_rate() -> None:
    config = EmulatorConfig(port=0, tokens_per_s=40, tokens_per_chunk=3)
    async with (
        running_emulator(config) as url,
        httpx.AsyncClient(base_url=url, headers=AUTH) as http,
    ):
        started = time.monotonic()
        events, _ = await stream_events(http, chat("a b c d e f g"))
        elapsed = time.monotonic() - started
    pieces = [e["choices"][0]["delta"]["content"] for e in events]
    assert pieces == ["You said: a ", "b c d ", "e f g"]  # 9 words, 3 to a chunk
    assert 2 * 3 / 40 <= elapsed < 3  # two pauses of three tokens' time


async def test_title_request(client: httpx.AsyncClient) -> None:
    body = {
        "model": MODEL,
        "messages": [
            {"role": "system", "content": "Generate a concise title for the conversation."},
            {"role": "user", "content": "help me organise my garden shed this weekend"},
        ],
    }
    response = (await client.post("chat/completions", json=body)).json()
    assert response["choices"][0]["message"]["content"] == "Help Me Organise My Garden"
