"""Empty answers at the model seam: asked once more, then explained; cut at max_tokens, an error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk

from services.agent.gemini.empty_answer import ModelOutputTruncatedError, without_empty_answers
from tests.unit.test_gemini_stream import chunk

AFTER_TOOL: list[dict[str, Any]] = [
    {"role": "user", "content": "add milk"},
    {"role": "assistant", "tool_calls": [{"id": "c1", "function": {"name": "create_task"}}]},
    {"role": "tool", "tool_call_id": "c1", "content": '{"task": {"id": 7}}'},
]
EMPTY = [chunk({"content": ""}, finish="stop")]
ANSWER = [chunk({"content": "Added "}), chunk({"content": "milk."}, finish="stop")]


class Source:
    """A stream of chunks that records whether it was closed."""

    def __init__(self, chunks: list[ChatCompletionChunk]) -> None:
        self.closed = False
        self._chunks = chunks

    async def stream(self) -> AsyncIterator[ChatCompletionChunk]:
        try:
            for c in self._chunks:
                yield c
        finally:
            self.closed = True


async def answer(
    first: list[ChatCompletionChunk], *retries: list[ChatCompletionChunk], messages: Any
) -> tuple[str, int]:
    """The text the SDK would read, and how many times the request was sent again."""
    pending = [Source(chunks) for chunks in retries]
    sent = 0

    async def retry() -> AsyncIterator[ChatCompletionChunk]:
        nonlocal sent
        sent += 1
        return pending[sent - 1].stream()

    out = [c async for c in without_empty_answers(Source(first).stream(), retry, messages)]
    text = "".join(c.choices[0].delta.content or "" for c in out if c.choices)
    return text, sent


async def test_an_answer_streams_through_untouched() -> None:
    assert await answer(ANSWER, messages=AFTER_TOOL) == ("Added milk.", 0)


async def test_an_empty_answer_after_a_tool_result_is_asked_once_more() -> None:
    assert await answer(EMPTY, ANSWER, messages=AFTER_TOOL) == ("Added milk.", 1)


async def test_a_second_empty_answer_becomes_a_message_built_from_the_results() -> None:
    text, sent = await answer(EMPTY, EMPTY, messages=AFTER_TOOL)
    assert sent == 1
    assert text.startswith("The assistant ran its tools but gave no answer")
    assert 'create_task: {"task": {"id": 7}}' in text


async def test_an_empty_answer_to_a_user_message_is_left_alone() -> None:
    assert await answer(EMPTY, messages=AFTER_TOOL[:1]) == ("", 0)


async def test_an_answer_cut_at_max_tokens_before_any_text_is_an_error() -> None:
    with pytest.raises(ModelOutputTruncatedError):
        await answer([chunk({}, finish="length")], messages=AFTER_TOOL)


async def test_a_consumer_that_leaves_closes_the_model_stream() -> None:
    source = Source(ANSWER)

    async def retry() -> AsyncIterator[ChatCompletionChunk]:
        raise AssertionError("not asked again")

    stream = without_empty_answers(source.stream(), retry, AFTER_TOOL)
    assert isinstance(stream, AsyncIterator)
    await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    assert source.closed
