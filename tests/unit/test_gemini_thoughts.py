"""Thought summaries separated from the answer text (`services/agent/gemini/thoughts.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, cast

import pytest
from agents.models.chatcmpl_stream_handler import ChatCmplStreamHandler
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from services.agent.gemini.empty_answer import without_empty_answers
from services.agent.gemini.request import thinking_fields
from services.agent.gemini.thoughts import (
    Segment,
    ThoughtSplitter,
    requested_marker,
    separate_thoughts,
    separate_thoughts_in_completion,
    split_text,
)
from shared.settings import GeminiSettings


def pieces_of(splitter: ThoughtSplitter, pieces: Sequence[str]) -> list[Segment]:
    segments: list[Segment] = []
    for piece in pieces:
        segments += splitter.feed(piece)
    segments += splitter.finish()
    return segments


def joined(segments: Sequence[Segment]) -> tuple[str, str]:
    text = "".join(s.text for s in segments if s.kind == "text")
    thought = "".join(s.text for s in segments if s.kind == "thought")
    return text, thought


TAGGED = "<thought>**Planning**\nCheck the list first.</thought>Here are your tasks."


@pytest.mark.parametrize("size", [1, 2, 3, 5, 9, 10, 11, len(TAGGED)])
def test_tags_split_anywhere_across_chunks_are_found(size: int) -> None:
    pieces = [TAGGED[i : i + size] for i in range(0, len(TAGGED), size)]
    segments = pieces_of(ThoughtSplitter("thought"), pieces)
    assert joined(segments) == ("Here are your tasks.", "**Planning**\nCheck the list first.")
    assert [s.kind for s in segments if s.text] == ["thought"] * (
        len([s for s in segments if s.kind == "thought"])
    ) + ["text"] * len([s for s in segments if s.kind == "text"])


def test_text_without_tags_passes_whole_and_unheld() -> None:
    splitter = ThoughtSplitter("thought")
    assert splitter.feed("Plain answer, 3 < 4 and <b>bold</b>.") == [
        Segment("text", "Plain answer, 3 < 4 and <b>bold</b>.")
    ]
    assert splitter.finish() == []


def test_a_possible_tag_start_is_held_until_decided() -> None:
    splitter = ThoughtSplitter("thought")
    assert splitter.feed("a <tho") == [Segment("text", "a ")]
    assert splitter.feed("rn in my side") == [Segment("text", "<thorn in my side")]
    assert splitter.feed(" <") == [Segment("text", " ")]
    assert splitter.finish() == [Segment("text", "<")]  # the end decides: it was text


def test_an_unclosed_thought_at_the_end_stays_a_thought() -> None:
    segments = pieces_of(ThoughtSplitter("thought"), ["<thought>still thin", "king </tho"])
    assert joined(segments) == ("", "still thinking </tho")


def test_several_thoughts_and_the_marker_given() -> None:
    text = "<think>one</think>A<think>two</think>B"
    assert split_text(text, "think") == ("AB", "onetwo")
    assert split_text(text, "thought") == (text, "")


def test_thoughts_are_asked_for_with_a_tag_marker() -> None:
    settings = GeminiSettings(api_key="k", model="gemini-2.5-flash", include_thoughts=True)
    fields = thinking_fields(settings)
    assert fields == {
        "extra_body": {
            "extra_body": {
                "google": {
                    "thinking_config": {"include_thoughts": True},
                    "thought_tag_marker": "thought",
                }
            }
        }
    }
    assert requested_marker(fields) == "thought"
    budget_only = thinking_fields(GeminiSettings(api_key="k", thinking_budget=64))
    assert requested_marker(budget_only) is None
    assert requested_marker({"reasoning_effort": "low"}) is None


def chunk(delta: dict[str, Any], finish: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "r1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gemini-3.8-flash",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        }
    )


async def stream_of(chunks: Sequence[ChatCompletionChunk]) -> AsyncIterator[ChatCompletionChunk]:
    for c in chunks:
        yield c


async def separated(contents: Sequence[str]) -> list[ChatCompletionChunk]:
    chunks = [chunk({"content": c}) for c in contents[:-1]]
    chunks.append(chunk({"content": contents[-1]}, "stop"))
    return [c async for c in separate_thoughts(stream_of(chunks), "thought")]


def deltas(chunks: Sequence[ChatCompletionChunk]) -> tuple[str, str]:
    content = "".join(c.choices[0].delta.content or "" for c in chunks)
    reasoning = "".join(
        getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks
    )
    return content, reasoning


async def test_a_stream_keeps_thoughts_out_of_content_and_ends_once() -> None:
    out = await separated(["<thou", "ght>Thinking ", "hard</th", "ought>Answer", " here."])
    assert deltas(out) == ("Answer here.", "Thinking hard")
    assert [c.choices[0].finish_reason for c in out].count("stop") == 1
    assert out[-1].choices[0].finish_reason == "stop"
    # a chunk holding a thought's end and the answer's start became two, thought first
    kinds = [
        "thought" if getattr(c.choices[0].delta, "reasoning_content", None) else "text"
        for c in out
        if c.choices[0].delta.content or getattr(c.choices[0].delta, "reasoning_content", None)
    ]
    assert kinds == ["thought", "thought", "text", "text"]


async def test_an_unclosed_thought_at_stream_end_never_reaches_content() -> None:
    out = await separated(["<thought>I wonder", " whether"])
    assert deltas(out) == ("", "I wonder whether")


async def test_a_stream_without_tags_is_unchanged() -> None:
    chunks = [chunk({"content": "Hello "}), chunk({"content": "there"}, "stop")]
    out = [c async for c in separate_thoughts(stream_of(chunks), "thought")]
    assert out == chunks


async def test_the_agents_sdk_reads_the_thoughts_as_a_reasoning_summary() -> None:
    out = await separated(["<thought>Plan the", " reply</thought>Hi", " there."])
    # thought pieces pass the empty-answer guard at once; the answer follows
    guarded = without_empty_answers(stream_of(out), lambda: _never(), [])
    response = Response(
        id="r", created_at=0, model="m", object="response", output=[], tool_choice="auto",
        tools=[], parallel_tool_calls=False,
    )  # fmt: skip
    events = [
        e
        async for e in ChatCmplStreamHandler.handle_stream(
            response, cast(Any, guarded), model="gemini-3.8-flash"
        )
    ]
    summary = "".join(e.delta for e in events if e.type == "response.reasoning_summary_text.delta")
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert (summary, text) == ("Plan the reply", "Hi there.")
    done = next(e for e in events if e.type == "response.completed")
    kinds = [item.type for item in done.response.output]
    assert kinds == ["reasoning", "message"]


async def _never() -> AsyncIterator[ChatCompletionChunk]:
    raise AssertionError("no retry expected")


def test_a_whole_completion_gets_its_thoughts_moved() -> None:
    completion = ChatCompletion.model_validate(
        {
            "id": "r",
            "object": "chat.completion",
            "created": 1,
            "model": "gemini-3.8-flash",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "<thought>hmm</thought>Yes."},
                    "finish_reason": "stop",
                }
            ],
        }
    )
    message = separate_thoughts_in_completion(completion, "thought").choices[0].message
    assert message.content == "Yes."
    assert getattr(message, "reasoning_content", None) == "hmm"


async def test_a_retried_empty_answer_keeps_both_thoughts_apart() -> None:
    first = await separated(["<thought>First try</thought>", ""])
    second = await separated(["<thought>Second try</thought>Done."])

    async def retry() -> AsyncIterator[ChatCompletionChunk]:
        return stream_of(second)

    after_tool = [{"role": "tool", "tool_call_id": "c1", "content": "{}"}]
    out = [c async for c in without_empty_answers(stream_of(first), retry, after_tool)]
    assert deltas(out) == ("Done.", "First try\n\nSecond try")
