"""Thought summaries out of the answer text, into the SDK's reasoning field.

With `include_thoughts`, Gemini's OpenAI-compatible endpoint sends its thought summaries inside
the message content; with `thought_tag_marker` set it wraps them in `<marker>...</marker>`
(without it, Vertex sends them untagged and nothing can tell them from the answer, so the
marker is always sent: `request.py`). Here the tagged text becomes `delta.reasoning_content`,
which the Agents SDK turns into reasoning events and chatkit into a thought workflow; the rest
stays `delta.content`. Tags may be split anywhere across chunks; text after an opening tag that
is never closed is a thought too, so an answer cut short never shows half a thought.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta

THOUGHT_TAG_MARKER = "thought"
"""What we ask Gemini to wrap thought summaries in (`extra_body.google.thought_tag_marker`)."""

Kind = Literal["text", "thought"]


@dataclass(frozen=True, slots=True)
class Segment:
    kind: Kind
    text: str


class ThoughtSplitter:
    """Splits streamed text into answer text and thoughts at `<marker>` / `</marker>` tags.

    A piece that might be the start of a tag is held back until the next piece decides it
    (`feed`), or until the stream ends (`finish`).
    """

    def __init__(self, marker: str = THOUGHT_TAG_MARKER) -> None:
        self._open = f"<{marker}>"
        self._close = f"</{marker}>"
        self._inside = False
        self._pending = ""

    def feed(self, text: str) -> list[Segment]:
        segments: list[Segment] = []
        buffer = self._pending + text
        while buffer:
            tag = self._close if self._inside else self._open
            found = buffer.find(tag)
            if found >= 0:
                self._add(segments, buffer[:found])
                buffer = buffer[found + len(tag) :]
                self._inside = not self._inside
                continue
            held = _partial_tag_at_end(buffer, tag)
            self._add(segments, buffer[: len(buffer) - held])
            buffer = buffer[len(buffer) - held :]
            break
        self._pending = buffer
        return segments

    def finish(self) -> list[Segment]:
        """What is still held back; an unclosed thought stays a thought."""
        segments: list[Segment] = []
        self._add(segments, self._pending)
        self._pending = ""
        self._inside = False
        return segments

    def _add(self, segments: list[Segment], text: str) -> None:
        if not text:
            return
        kind: Kind = "thought" if self._inside else "text"
        if segments and segments[-1].kind == kind:
            segments[-1] = Segment(kind, segments[-1].text + text)
        else:
            segments.append(Segment(kind, text))


def _partial_tag_at_end(text: str, tag: str) -> int:
    """The length of the longest end of `text` that begins `tag` (0 if none)."""
    for length in range(min(len(text), len(tag) - 1), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0


def split_text(text: str, marker: str = THOUGHT_TAG_MARKER) -> tuple[str, str]:
    """(answer text, thoughts) of a whole message."""
    splitter = ThoughtSplitter(marker)
    segments = splitter.feed(text) + splitter.finish()
    answer = "".join(s.text for s in segments if s.kind == "text")
    thoughts = "".join(s.text for s in segments if s.kind == "thought")
    return answer, thoughts


def requested_marker(request: dict[str, Any]) -> str | None:
    """The tag marker `request` asks thoughts to come in, if it asks for thoughts at all."""
    outer = request.get("extra_body")
    inner = outer.get("extra_body") if isinstance(outer, dict) else None
    google = inner.get("google") if isinstance(inner, dict) else None
    if not isinstance(google, dict):
        return None
    config = google.get("thinking_config")
    marker = google.get("thought_tag_marker")
    asked = isinstance(config, dict) and config.get("include_thoughts") is True
    return marker if asked and isinstance(marker, str) and marker else None


def _delta_for(segment: Segment) -> dict[str, Any]:
    if segment.kind == "thought":
        return {"content": None, "reasoning_content": segment.text}
    return {"content": segment.text}


def _with_delta(chunk: ChatCompletionChunk, choice: Choice, update: dict[str, Any]) -> Any:
    delta = (choice.delta or ChoiceDelta()).model_copy(update=update)
    return chunk.model_copy(update={"choices": [choice.model_copy(update={"delta": delta})]})


def _thought_only(chunk: ChatCompletionChunk, segment: Segment) -> ChatCompletionChunk:
    """A chunk that carries one segment and nothing else (no calls, finish or usage)."""
    choice = Choice(index=0, delta=ChoiceDelta(role="assistant", **_delta_for(segment)))
    return chunk.model_copy(update={"choices": [choice], "usage": None})


async def separate_thoughts(
    chunks: AsyncIterator[ChatCompletionChunk], marker: str
) -> AsyncIterator[ChatCompletionChunk]:
    """`chunks` with tagged thoughts moved from `delta.content` to `delta.reasoning_content`.

    A chunk holding several segments becomes one chunk per segment, in order; the last keeps
    whatever else the chunk carried (tool calls, finish reason, usage).
    """
    splitter = ThoughtSplitter(marker)
    last: ChatCompletionChunk | None = None
    async for chunk in chunks:
        last = chunk
        if len(chunk.choices) != 1:  # Gemini sends one choice; anything else passes untouched
            yield chunk
            continue
        choice = chunk.choices[0]
        content = choice.delta.content if choice.delta is not None else None
        segments = splitter.feed(content) if content else []
        if choice.finish_reason is not None:
            segments += splitter.finish()
        if not content and not segments:
            yield chunk
            continue
        for segment in segments[:-1]:
            yield _thought_only(chunk, segment)
        final = _delta_for(segments[-1]) if segments else {"content": None}
        yield _with_delta(chunk, choice, final)
    rest = splitter.finish()
    if rest and last is not None:  # a stream that ended without a finish reason
        for segment in rest:
            yield _thought_only(last, segment)


def separate_thoughts_in_completion(completion: ChatCompletion, marker: str) -> ChatCompletion:
    """A whole (non-streamed) answer with its tagged thoughts in `message.reasoning_content`."""
    choices = []
    for choice in completion.choices:
        content = choice.message.content
        if content:
            answer, thoughts = split_text(content, marker)
            update: dict[str, Any] = {"content": answer or None}
            if thoughts:
                update["reasoning_content"] = thoughts
            choice = choice.model_copy(update={"message": choice.message.model_copy(update=update)})
        choices.append(choice)
    return completion.model_copy(update={"choices": choices})
