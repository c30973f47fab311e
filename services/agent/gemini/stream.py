"""Normalising Gemini's streamed answer before the Agents SDK reads it.

- Tool calls arrive whole, one per chunk, without `index`; the SDK keys streamed calls by index,
  so two parallel calls would fuse into one with concatenated arguments. Calls are collected and
  handed over together at the end, each with its own index (and an id if Gemini sent none).
- A thought signature may come on a trailing delta instead of the first call; it is moved onto
  the first call of the group, and every signature is recorded (see `signatures.py`).
- Tool-call answers end with `finish_reason: "stop"`; it becomes `"tool_calls"`.
- A stream that ends without any finish reason was cut off; the SDK would take the partial text
  for the whole answer, so it is raised as `ModelStreamCutError` instead.
OpenAI-style streams (indexed calls split over chunks) pass through the same path unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)

from services.agent.gemini.errors import ModelStreamCutError
from services.agent.gemini.signatures import call_key

SaveSignatures = Callable[[dict[str, str]], Awaitable[None]]


@dataclass
class _ToolCall:
    call_id: str = ""
    name: str = ""
    arguments: str = ""
    extra_content: dict[str, Any] = field(default_factory=dict)

    def signature(self) -> str | None:
        return _signature_in(self.extra_content)


def _signature_in(extra_content: object) -> str | None:
    if not isinstance(extra_content, dict):
        return None
    google = extra_content.get("google")
    signature = google.get("thought_signature") if isinstance(google, dict) else None
    return signature if isinstance(signature, str) and signature else None


class _ToolCallCollector:
    def __init__(self) -> None:
        self.calls: list[_ToolCall] = []
        self._by_index: dict[int, _ToolCall] = {}
        self.trailing_signature: str | None = None

    def add(self, delta: ChoiceDeltaToolCall) -> None:
        index = getattr(delta, "index", None)
        if index is None or index not in self._by_index:
            call = _ToolCall()
            self.calls.append(call)
            if index is not None:
                self._by_index[index] = call
        else:
            call = self._by_index[index]
        if delta.id:
            call.call_id = delta.id
        if delta.function is not None:
            call.name = delta.function.name or call.name
            call.arguments += delta.function.arguments or ""
        extra = getattr(delta, "extra_content", None)
        if isinstance(extra, dict):
            call.extra_content = {**call.extra_content, **extra}

    def finished_calls(self) -> list[ChoiceDeltaToolCall]:
        if self.trailing_signature and self.calls and not any(c.signature() for c in self.calls):
            self.calls[0].extra_content = {
                **self.calls[0].extra_content,
                "google": {"thought_signature": self.trailing_signature},
            }
        deltas = []
        for index, call in enumerate(self.calls):
            call.call_id = call.call_id or f"call_{uuid.uuid4().hex}"
            extra = {"extra_content": call.extra_content} if call.extra_content else {}
            deltas.append(
                ChoiceDeltaToolCall(
                    index=index,
                    id=call.call_id,
                    type="function",
                    function=ChoiceDeltaToolCallFunction(name=call.name, arguments=call.arguments),
                    **extra,
                )
            )
        return deltas

    def signatures(self) -> dict[str, str]:
        """Signatures by `call_key` (call id, name and arguments)."""
        return {
            call_key(c.call_id, c.name, c.arguments): s
            for c in self.calls
            if (s := c.signature()) is not None
        }


async def normalize_stream(
    chunks: AsyncIterator[ChatCompletionChunk], save_signatures: SaveSignatures
) -> AsyncIterator[ChatCompletionChunk]:
    collector = _ToolCallCollector()
    finished = False
    async for chunk in chunks:
        passthrough: list[Choice] = []
        finish_choice: Choice | None = None
        for choice in chunk.choices:
            delta = choice.delta
            if delta is not None and delta.tool_calls:
                for call in delta.tool_calls:
                    collector.add(call)
                delta = delta.model_copy(update={"tool_calls": None})
            signature = _signature_in(getattr(delta, "extra_content", None))
            if signature is not None:
                # A trailing signature delta carries no text; it must not open an empty message.
                collector.trailing_signature = signature
                if not (delta is not None and delta.content):
                    delta = ChoiceDelta(role="assistant")
            choice = choice.model_copy(update={"delta": delta})
            if choice.finish_reason is not None:
                finish_choice = choice
            else:
                passthrough.append(choice)

        if passthrough or (chunk.usage is not None and finish_choice is None):
            yield chunk.model_copy(update={"choices": passthrough})
        if finish_choice is None:
            continue

        finished = True
        if collector.calls:
            tool_calls = collector.finished_calls()
            await save_signatures(collector.signatures())
            calls_choice = Choice(index=0, delta=ChoiceDelta(tool_calls=tool_calls))
            yield chunk.model_copy(update={"choices": [calls_choice], "usage": None})
            finish_choice = finish_choice.model_copy(update={"finish_reason": "tool_calls"})
            collector = _ToolCallCollector()
        yield chunk.model_copy(update={"choices": [finish_choice]})

    if not finished:
        raise ModelStreamCutError()
