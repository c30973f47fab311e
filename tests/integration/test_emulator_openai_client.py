"""The Gemini emulator driven by the real `openai.AsyncOpenAI` client, as the worker uses it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionChunk

from services.agent.gemini.chunk_stream import ChunkStream
from services.agent.gemini.text_bursts import join_text_chunks
from services.gemini_emulator.server import running_emulator

MODEL = "gemini-2.5-flash"
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} tool",
            "parameters": {"type": "object", "properties": {}},
        },
    }
    for name in ("create_task", "list_tasks", "delete_task", "bulk_delete_tasks")
]


@pytest.fixture
async def emulator_url() -> AsyncIterator[str]:
    async with running_emulator() as url:
        yield url


@pytest.fixture
async def client(emulator_url: str) -> AsyncIterator[openai.AsyncOpenAI]:
    # No SDK retries unless a test asks: the failure tests want to see the first response.
    async with openai.AsyncOpenAI(base_url=emulator_url, api_key="x", max_retries=0) as sdk:
        yield sdk


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


async def collect(stream: openai.AsyncStream[ChatCompletionChunk]) -> list[dict[str, Any]]:
    # Compare raw dicts: Gemini's tool calls lack `index`, which the SDK's model declares.
    return [chunk.model_dump(exclude_unset=True) async for chunk in stream]


async def test_streamed_echo(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=user("hello world"), stream=True
    )
    chunks = await collect(stream)
    assert "".join(c["choices"][0]["delta"]["content"] for c in chunks) == "You said: hello world"
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in chunks)
    assert all(c["usage"]["total_tokens"] > 0 for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_streamed_tool_calls(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=user("add task buy milk and walk dog"), tools=TOOLS, stream=True
    )
    chunks = await collect(stream)
    calls = [c["choices"][0]["delta"]["tool_calls"] for c in chunks[:-1]]
    assert [len(group) for group in calls] == [1, 1]
    first, second = calls[0][0], calls[1][0]
    assert "index" not in first and "index" not in second
    assert first["function"]["name"] == "create_task"
    assert json.loads(second["function"]["arguments"]) == {"title": "walk dog"}
    assert first["extra_content"]["google"]["thought_signature"]
    assert "extra_content" not in second
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, "stop"]


async def test_non_streamed_tool_call_and_follow_up(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model=MODEL, messages=user("delete tasks 4 and 5"), tools=TOOLS
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function"
    assert call.function.name == "bulk_delete_tasks"
    assert json.loads(call.function.arguments) == {"task_ids": [4, 5]}
    raw_call: Any = call.model_dump(exclude_unset=True)
    assert "extra_content" in raw_call

    follow_up = await client.chat.completions.create(
        model=MODEL,
        tools=TOOLS,
        messages=[
            *user("delete tasks 4 and 5"),
            {"role": "assistant", "content": None, "tool_calls": [raw_call]},
            {"role": "tool", "tool_call_id": call.id, "content": '{"deleted": [4, 5]}'},
        ],
    )
    assert follow_up.choices[0].message.content == "Deleted tasks #4, #5."
    assert follow_up.usage is not None and follow_up.usage.prompt_tokens > 0


async def test_rate_limit_error_shape(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model=MODEL, messages=user("hi [[fail:429]]"))
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "1"
    body: Any = caught.value.body
    assert isinstance(body, list)
    assert body[0]["error"]["status"] == "RESOURCE_EXHAUSTED"


async def test_queued_failure_then_sdk_retry_succeeds(emulator_url: str) -> None:
    root = emulator_url.split("/v1beta/")[0]
    async with httpx.AsyncClient(base_url=root) as control:
        await control.post("/emulator/failures", json={"mode": "503", "count": 1})
        async with openai.AsyncOpenAI(base_url=emulator_url, api_key="x", max_retries=1) as sdk:
            completion = await sdk.chat.completions.create(model=MODEL, messages=user("retry me"))
        assert completion.choices[0].message.content == "You said: retry me"
        assert len((await control.get("/emulator/requests")).json()) == 2


async def test_cut_stream_ends_without_finish(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=user("tell me a long story [[fail:cut]]"), stream=True
    )
    chunks = await collect(stream)
    assert chunks
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


async def test_length_stream(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=user("hi [[fail:length]]"), stream=True
    )
    chunks = await collect(stream)
    assert [c["choices"][0]["finish_reason"] for c in chunks] == ["length"]
    assert "content" not in chunks[0]["choices"][0]["delta"]


async def test_hang_is_cancelled_by_client_timeout(emulator_url: str) -> None:
    async with openai.AsyncOpenAI(
        base_url=emulator_url, api_key="x", max_retries=0, timeout=0.5
    ) as sdk:
        with pytest.raises(openai.APITimeoutError):
            stream = await sdk.chat.completions.create(
                model=MODEL, messages=user("hi [[fail:hang]]"), stream=True
            )
            await collect(stream)
        with pytest.raises(openai.APITimeoutError):
            await sdk.chat.completions.create(model=MODEL, messages=user("hi [[fail:hang]]"))
        # The emulator is still responsive afterwards.
        models = await sdk.models.list()
        assert "models/gemini-2.5-flash" in [model.id for model in models.data]


async def test_store_is_rejected(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model=MODEL, messages=user("hi"), store=True)
    # With Gemini's array body the SDK cannot find a message, so it says only "Error code: 400".
    body: Any = caught.value.body
    assert 'Unknown name "store"' in body[0]["error"]["message"]


def switches(value: str) -> dict[str, str]:
    return {"X-Emulator-Behaviour": value}


async def test_trailing_signature_round_trip(client: openai.AsyncOpenAI) -> None:
    """The signature on the trailing delta validates once moved onto the first tool call."""
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=user("add task buy milk and walk dog"),
        tools=TOOLS,
        stream=True,
        extra_headers=switches("signature_placement=trailing_delta"),
    )
    chunks = [chunk async for chunk in stream]
    calls = [call for c in chunks for call in c.choices[0].delta.tool_calls or []]
    assert len(calls) == 2 and all(call.model_extra == {} for call in calls)
    extras = [c.choices[0].delta.model_extra or {} for c in chunks]
    (extra,) = [e["extra_content"] for e in extras if "extra_content" in e]
    assert chunks[-2].choices[0].delta.content == ""

    raw_calls: list[Any] = [call.model_dump(exclude_unset=True) for call in calls]
    results: list[Any] = [
        {"role": "tool", "tool_call_id": call.id, "content": "{}"} for call in calls
    ]

    def history(first_call: dict[str, Any]) -> list[Any]:
        return [
            *user("add task buy milk and walk dog"),
            {"role": "assistant", "content": None, "tool_calls": [first_call, *raw_calls[1:]]},
            *results,
        ]

    answer = await client.chat.completions.create(
        model=MODEL, tools=TOOLS, messages=history({**raw_calls[0], "extra_content": extra})
    )
    assert answer.choices[0].message.content

    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(
            model=MODEL, tools=TOOLS, messages=history(raw_calls[0])
        )
    body: Any = caught.value.body
    assert body == [
        {
            "error": {
                "code": 400,
                "message": "Function call is missing a thought_signature in functionCall parts. "
                "This is required for tools to work correctly, and missing thought_signature "
                "may lead to degraded model performance. Additional data, function call "
                "`default_api:create_task` , position 1. Please refer to "
                "https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                "status": "INVALID_ARGUMENT",
            }
        }
    ]


async def test_openai_style_stream_accumulates_in_the_sdk(client: openai.AsyncOpenAI) -> None:
    """With OpenAI's quirks switched on, the SDK's own stream helper can assemble the calls."""
    async with client.chat.completions.stream(
        model=MODEL,
        messages=user("add task buy milk and walk dog"),
        tools=TOOLS,
        extra_headers=switches(
            "tool_call_index=include,tool_finish_reason=tool_calls,usage=final_only"
        ),
    ) as stream:
        completion = await stream.get_final_completion()
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    assert [c.function.arguments for c in choice.message.tool_calls] == [
        '{"title":"buy milk"}',
        '{"title":"walk dog"}',
    ]
    assert completion.usage is not None and completion.usage.completion_tokens > 0


async def test_empty_ids_reach_the_sdk_as_empty_strings(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model=MODEL,
        messages=user("add task buy milk"),
        tools=TOOLS,
        extra_headers=switches("empty_tool_call_ids=true"),
    )
    tool_calls = completion.choices[0].message.tool_calls
    assert tool_calls is not None and [call.id for call in tool_calls] == [""]


@pytest.mark.parametrize(
    "text", ["hello world", "add milk and eggs", "please repeat " + " ".join(["word"] * 40)]
)
async def test_the_workers_chunk_parser_reads_what_the_sdk_reads(
    client: openai.AsyncOpenAI, text: str
) -> None:
    """`ChunkStream` parses with pydantic's validator (falling back to the SDK for chunks off the
    schema, like Gemini's index-less tool calls): the chunks must equal the SDK's own, except
    that plain text chunks read together arrive joined (so both are compared fully joined)."""
    body = {"model": MODEL, "messages": user(text), "tools": TOOLS, "stream": True}
    stock = await client.chat.completions.create(**body)  # type: ignore[call-overload]
    ours = await our_stream(client, body)
    expected = without_fresh_values(await collect(stock))
    received = without_fresh_values(await collect(ours))
    assert join_text_chunks(received) == join_text_chunks(expected)
    assert len(expected) > 1


async def test_text_chunks_read_together_arrive_as_one(client: openai.AsyncOpenAI) -> None:
    """A reader that falls behind (here: it pauses after the first chunk, while the emulator sends
    the rest at once) gets what piled up as one chunk, with the same text and the last usage."""
    words = " ".join(f"w{n}" for n in range(60))
    body = {"model": MODEL, "messages": user(f"please repeat {words}"), "stream": True}
    stock = await collect(await client.chat.completions.create(**body))  # type: ignore[call-overload]
    ours = await our_stream(client, body)
    received = []
    async for chunk in ours:
        received.append(chunk.model_dump(exclude_unset=True))
        if len(received) == 1:
            await asyncio.sleep(0.5)
    assert len(stock) > 30 and len(received) < len(stock) / 4

    def text(chunks: list[dict[str, Any]]) -> str:
        return "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )

    assert text(received) == text(stock)
    assert received[-1]["usage"] == stock[-1]["usage"]


async def our_stream(client: openai.AsyncOpenAI, body: dict[str, Any]) -> ChunkStream:
    stream = await client.post(
        "/chat/completions", body=body, cast_to=ChatCompletionChunk, stream=True,
        stream_cls=ChunkStream,
    )  # fmt: skip
    assert isinstance(stream, ChunkStream)
    return stream


def without_fresh_values(value: Any) -> Any:
    """`value` without what differs between two answers to the same request (ids, signatures)."""
    if isinstance(value, dict):
        fresh = ("id", "created", "thought_signature")
        return {k: without_fresh_values(v) for k, v in value.items() if k not in fresh}
    if isinstance(value, list):
        return [without_fresh_values(v) for v in value]
    return value
