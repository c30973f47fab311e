"""The stream normaliser, fed the chunk shapes Gemini (and OpenAI) really send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai._models import construct_type
from openai.types.chat import ChatCompletionChunk

from services.agent.gemini.errors import ModelStreamCutError
from services.agent.gemini.signatures import call_key
from services.agent.gemini.stream import normalize_stream


def chunk(delta: dict[str, Any], finish: str | None = None) -> ChatCompletionChunk:
    # The OpenAI client builds chunks leniently (index-less tool calls survive); so do we.
    built = construct_type(
        type_=ChatCompletionChunk,
        value={
            "id": "r1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gemini-2.5-flash",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        },
    )
    assert isinstance(built, ChatCompletionChunk)
    return built


def gemini_call(call_id: str, name: str, args: str, signature: str | None = None) -> dict[str, Any]:
    call: dict[str, Any] = {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": args},
    }
    if signature:
        call["extra_content"] = {"google": {"thought_signature": signature}}
    return {"tool_calls": [call]}


async def run(
    chunks: list[ChatCompletionChunk],
) -> tuple[list[ChatCompletionChunk], dict[str, str]]:
    saved: dict[str, str] = {}

    async def source() -> AsyncIterator[ChatCompletionChunk]:
        for c in chunks:
            yield c

    async def save(signatures: dict[str, str]) -> None:
        saved.update(signatures)

    return [c async for c in normalize_stream(source(), save)], saved


def tool_calls(chunks: list[ChatCompletionChunk]) -> list[Any]:
    return [tc for c in chunks for ch in c.choices for tc in (ch.delta.tool_calls or [])]


async def test_index_less_parallel_calls_stay_separate() -> None:
    out, saved = await run(
        [
            chunk(gemini_call("a", "create_task", '{"title":"milk"}', signature="SIG")),
            chunk(gemini_call("b", "create_task", '{"title":"eggs"}')),
            chunk({"content": ""}, finish="stop"),
        ]
    )
    calls = tool_calls(out)
    assert [(c.index, c.id, c.function.arguments) for c in calls] == [
        (0, "a", '{"title":"milk"}'),
        (1, "b", '{"title":"eggs"}'),
    ]
    assert saved == {call_key("a", "create_task", '{"title":"milk"}'): "SIG"}
    assert out[-1].choices[0].finish_reason == "tool_calls"


async def test_trailing_signature_moves_onto_the_first_call() -> None:
    out, saved = await run(
        [
            chunk(gemini_call("a", "list_tasks", "{}")),
            chunk({"content": "", "extra_content": {"google": {"thought_signature": "TRAIL"}}}),
            chunk({}, finish="stop"),
        ]
    )
    (call,) = tool_calls(out)
    assert call.extra_content == {"google": {"thought_signature": "TRAIL"}}
    assert saved == {call_key("a", "list_tasks", "{}"): "TRAIL"}
    # The signature-only delta opens no (empty) text message.
    assert all(ch.delta.content in (None, "") for c in out for ch in c.choices)
    assert not any(ch.delta.content == "" for c in out for ch in c.choices)


async def test_empty_tool_call_ids_get_unique_ones() -> None:
    out, _ = await run(
        [
            chunk(gemini_call("", "create_task", '{"title":"a"}')),
            chunk(gemini_call("", "create_task", '{"title":"b"}')),
            chunk({}, finish="stop"),
        ]
    )
    ids = [c.id for c in tool_calls(out)]
    assert all(ids) and len(set(ids)) == 2


async def test_openai_style_split_arguments_are_joined_by_index() -> None:
    first = {
        "tool_calls": [
            {
                "index": 0,
                "id": "x",
                "type": "function",
                "function": {"name": "create_task", "arguments": '{"ti'},
            }
        ]
    }
    rest = {"tool_calls": [{"index": 0, "function": {"arguments": 'tle":"z"}'}}]}
    out, _ = await run([chunk(first), chunk(rest), chunk({}, finish="tool_calls")])
    (call,) = tool_calls(out)
    assert call.function.arguments == '{"title":"z"}'


async def test_text_passes_through_as_it_arrives() -> None:
    out, _ = await run([chunk({"content": "Hel"}), chunk({"content": "lo"}, finish="stop")])
    assert "".join(ch.delta.content or "" for c in out for ch in c.choices) == "Hello"
    assert out[-1].choices[0].finish_reason == "stop"


async def test_a_stream_without_finish_reason_was_cut() -> None:
    with pytest.raises(ModelStreamCutError):
        await run([chunk({"content": "partial an"})])
