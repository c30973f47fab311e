"""Answers with nothing in them: asked once more, then explained, never shown as a blank bubble.

- After a tool result Gemini sometimes answers with empty content and `finish_reason: "stop"`.
  The request is sent once more; if that answer is empty too, the user gets a short message
  built from the tool results, saying honestly that the model gave no answer.
- An answer that ends with `finish_reason: "length"` before any visible text (thinking used the
  whole `max_tokens`) is `ModelOutputTruncatedError`, which the turn shows as a clear error.

Chunks are held back only until the first visible text or tool call, so a normal answer streams
as before; only an answer that turns out empty is replaced. Thought summaries are not held: they
stream as they come (a retried answer's thoughts follow the first one's).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta

from services.agent.gemini.errors import ModelError

MAX_RESULT_CHARS = 160
"""How much of each tool result the fallback message quotes."""


class ModelOutputTruncatedError(ModelError):
    """The answer hit `max_tokens` before any visible text."""

    def __init__(self) -> None:
        super().__init__(
            "the model stopped at max_tokens before any visible text",
            status_code=None,
            retryable=False,
        )


def ends_with_tool_result(messages: object) -> bool:
    return (
        isinstance(messages, list)
        and bool(messages)
        and isinstance(messages[-1], Mapping)
        and messages[-1].get("role") == "tool"
    )


def fallback_text(messages: Sequence[Mapping[str, Any]]) -> str:
    """What the user reads when the model answered a tool result with nothing, twice."""
    names: dict[str, str] = {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            names[str(call.get("id"))] = str(function.get("name") or "a tool")
    results = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        name = names.get(str(message.get("tool_call_id")), "a tool")
        results.append(f"{name}: {_short(message.get('content'))}")
    results.reverse()
    listed = "; ".join(results)
    return (
        "The assistant ran its tools but gave no answer about them, so here are their results "
        f"as they came back: {listed}"
    )


def _short(content: object) -> str:
    if isinstance(content, list):  # text parts
        content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
    text = content if isinstance(content, str) else json.dumps(content)
    text = " ".join(text.split())
    return text if len(text) <= MAX_RESULT_CHARS else text[: MAX_RESULT_CHARS - 3] + "..."


def _visible(chunk: ChatCompletionChunk) -> bool:
    return any(
        choice.delta is not None
        and (bool(choice.delta.tool_calls) or bool((choice.delta.content or "").strip()))
        for choice in chunk.choices
    )


def _finish_reason(chunks: Sequence[ChatCompletionChunk]) -> str | None:
    for chunk in reversed(chunks):
        for choice in chunk.choices:
            if choice.finish_reason is not None:
                return choice.finish_reason
    return None


def _thinking_only(chunk: ChatCompletionChunk) -> bool:
    """A thought summary piece (`thoughts.py`) and nothing else: not an answer, not held."""
    return bool(chunk.choices) and all(
        choice.delta is not None
        and bool(getattr(choice.delta, "reasoning_content", None))
        and choice.finish_reason is None
        and not choice.delta.tool_calls
        and not choice.delta.content
        for choice in chunk.choices
    )


def _after_a_paragraph(chunk: ChatCompletionChunk) -> ChatCompletionChunk:
    choice = chunk.choices[0]
    text = "\n\n" + str(getattr(choice.delta, "reasoning_content", ""))
    delta = choice.delta.model_copy(update={"reasoning_content": text})
    return chunk.model_copy(update={"choices": [choice.model_copy(update={"delta": delta})]})


async def _close(stream: AsyncIterator[ChatCompletionChunk]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


async def without_empty_answers(
    first: AsyncIterator[ChatCompletionChunk],
    retry: Callable[[], Awaitable[AsyncIterator[ChatCompletionChunk]]],
    messages: object,
    on_empty: Callable[[], None] = lambda: None,
) -> AsyncIterator[ChatCompletionChunk]:
    """`first`'s chunks; an empty answer after a tool result is asked once more (`retry`) and
    then replaced by `fallback_text`; an empty answer cut at `max_tokens` is an error."""
    stream = first
    try:
        thought_before = False
        for attempt in range(2):
            held: list[ChatCompletionChunk] = []
            visible = False
            separate = thought_before  # the retry's thoughts continue the same summary
            async for chunk in stream:
                if _thinking_only(chunk):
                    if separate:
                        chunk, separate = _after_a_paragraph(chunk), False
                    thought_before = True
                    yield chunk  # thoughts show while the model thinks, answer or not
                    continue
                held.append(chunk)
                if _visible(chunk):
                    visible = True
                    break
            if visible:
                for chunk in held:
                    yield chunk
                async for chunk in stream:
                    yield chunk
                return
            finish = _finish_reason(held)
            if finish == "length":
                raise ModelOutputTruncatedError()
            if not (finish == "stop" and ends_with_tool_result(messages)):
                for chunk in held:
                    yield chunk
                return
            on_empty()
            if attempt == 0:
                await _close(stream)
                stream = await retry()
    finally:
        # The consumer may leave mid-answer (a cancelled turn): the model call closes now.
        await _close(stream)
    assert isinstance(messages, list)  # ends_with_tool_result checked it
    template = held[-1] if held else None
    text = fallback_text(messages)
    if template is None:
        raise ModelError("the model answered with nothing", status_code=None, retryable=True)
    yield template.model_copy(
        update={
            "choices": [Choice(index=0, delta=ChoiceDelta(role="assistant", content=text))],
            "usage": None,
        }
    )
    yield template.model_copy(
        update={"choices": [Choice(index=0, delta=ChoiceDelta(), finish_reason="stop")]}
    )
