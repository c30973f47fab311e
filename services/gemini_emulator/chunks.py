"""Building response bodies in Gemini's exact OpenAI-compatible shape.

Quirks reproduced on purpose (clients written against OpenAI trip over each):
- `role: "assistant"` in every delta and cumulative `usage` on every chunk;
- tool calls arrive whole, one per chunk, with no `index` key;
- only the first call of a parallel group carries `extra_content.google.thought_signature`
  (see `signatures.py` for what it signs);
- a streamed tool-call turn ends with `finish_reason: "stop"`, never `"tool_calls"`.
Each can be switched (see `behaviour.py`).
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from services.gemini_emulator.behaviour import Behaviour
from services.gemini_emulator.rules import Reply, TextReply, ToolCallPlan
from services.gemini_emulator.signatures import sign

DONE = b"data: [DONE]\n\n"
# Text streamed before the connection drops when a `cut` turn would have been a tool call.
CUT_FALLBACK_TEXT = "Let me work on that for you right away, one moment"


CALL_NUMBER_BASE = 4162774
"""Gemini 3 style ids count up from here within a conversation: `call_4162774`, ..."""


@dataclass(frozen=True, slots=True)
class CallIssue:
    """How one response names and signs its tool calls (from the model's profile)."""

    conversation: str = ""
    """Signatures are bound to this conversation ("" = to the call only, as on 2.5)."""
    first_number: int | None = None
    """Gemini 3: ids numbered within the conversation from this count of earlier calls, so
    they repeat across conversations; None: random ids, unique everywhere (2.5)."""

    def call_id(self, position: int) -> str:
        if self.first_number is None:
            return f"call_{secrets.token_hex(12)}"
        return f"call_{CALL_NUMBER_BASE + self.first_number + position}"


@dataclass(frozen=True, slots=True)
class ResponseMeta:
    """What stays the same on every chunk of one response."""

    id: str
    created: int
    model: str
    prompt_tokens: int


def new_meta(model: str, prompt_chars: int) -> ResponseMeta:
    # Gemini's ids are opaque url-safe strings rather than OpenAI's "chatcmpl-..." form.
    return ResponseMeta(
        id=secrets.token_urlsafe(18),
        created=int(time.time()),
        model=model,
        prompt_tokens=max(1, prompt_chars // 4),
    )


def split_tokens(text: str) -> list[str]:
    """Word-ish pieces that keep their trailing whitespace, so joining them restores `text`."""
    pieces = re.findall(r"\s*\S+\s*", text)
    return pieces or ([text] if text else [])


def count_tokens(text: str) -> int:
    return len(text.split())


def usage(meta: ResponseMeta, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": meta.prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": meta.prompt_tokens + completion_tokens,
    }


def chunk(
    meta: ResponseMeta,
    delta: dict[str, Any],
    finish_reason: str | None,
    completion_tokens: int,
    *,
    with_usage: bool = True,
) -> dict[str, Any]:
    """One `chat.completion.chunk`; `delta` gets `role` added as Gemini always sends it."""
    return {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "choices": [
            {"index": 0, "delta": {"role": "assistant", **delta}, "finish_reason": finish_reason}
        ],
        "usage": usage(meta, completion_tokens) if with_usage else None,
    }


def sse(payload: dict[str, Any]) -> bytes:
    return b"data: " + msgspec.json.encode(payload) + b"\n\n"


def tool_call_payloads(
    plans: Sequence[ToolCallPlan],
    behaviour: Behaviour,
    key: bytes,
    *,
    streamed: bool,
    issue: CallIssue = CallIssue(),
) -> list[dict[str, Any]]:
    """Wire tool calls; like Gemini by default: no `index`, the thought signature on the first."""
    payloads: list[dict[str, Any]] = []
    for position, plan in enumerate(plans):
        arguments = json.dumps(plan.arguments, separators=(",", ":"), ensure_ascii=False)
        payload: dict[str, Any] = {
            "id": "" if behaviour.empty_tool_call_ids else issue.call_id(position),
            "type": "function",
            "function": {"name": plan.name, "arguments": arguments},
        }
        if streamed and behaviour.tool_call_index == "include":
            payload["index"] = position
        if position == 0 and _signs_first_call(behaviour, streamed=streamed):
            payload["extra_content"] = _signature_extra(key, plan.name, arguments, issue)
        payloads.append(payload)
    return payloads


def _signs_first_call(behaviour: Behaviour, *, streamed: bool) -> bool:
    # A non-streamed answer has no deltas, so "trailing_delta" falls back to the first call.
    placement = behaviour.signature_placement
    return placement == "first_call" or (placement == "trailing_delta" and not streamed)


def _signature_extra(key: bytes, name: str, arguments: str, issue: CallIssue) -> dict[str, Any]:
    # Opaque to clients; they must echo it back unchanged on the assistant message.
    return {"google": {"thought_signature": sign(key, name, arguments, issue.conversation)}}


def _call_tokens(call: dict[str, Any]) -> int:
    function = call["function"]
    return max(1, count_tokens(f"{function['name']} {function['arguments']}"))


def stream_chunks(
    meta: ResponseMeta,
    reply: Reply,
    behaviour: Behaviour,
    key: bytes,
    tokens_per_chunk: int = 1,
    issue: CallIssue = CallIssue(),
) -> list[dict[str, Any]]:
    """All chunks of a successful streamed reply (the caller appends `[DONE]`)."""
    every = behaviour.usage == "every_chunk"
    if isinstance(reply, TextReply):
        words = split_tokens(reply.text) or [""]
        pieces = [
            "".join(words[i : i + tokens_per_chunk]) for i in range(0, len(words), tokens_per_chunk)
        ]
        chunks, tokens = [], 0
        for position, piece in enumerate(pieces):
            tokens += count_tokens(piece)
            # Gemini puts the finish reason on the last content chunk, not a separate one.
            last = position == len(pieces) - 1
            chunks.append(
                chunk(
                    meta,
                    {"content": piece},
                    "stop" if last else None,
                    tokens,
                    with_usage=every or last,
                )
            )
        return chunks
    chunks, tokens = [], 0
    calls = tool_call_payloads(reply.calls, behaviour, key, streamed=True, issue=issue)
    for call in calls:
        tokens += _call_tokens(call)
        chunks.append(chunk(meta, {"tool_calls": [call]}, None, tokens, with_usage=every))
    if behaviour.signature_placement == "trailing_delta":
        first = calls[0]["function"]
        extra = _signature_extra(key, first["name"], first["arguments"], issue)
        chunks.append(
            chunk(meta, {"content": "", "extra_content": extra}, None, tokens, with_usage=every)
        )
    chunks.append(chunk(meta, {}, behaviour.tool_finish_reason, tokens))
    return chunks


def cut_chunks(
    meta: ResponseMeta, reply: Reply, behaviour: Behaviour | None = None
) -> list[dict[str, Any]]:
    """The first half of a text reply's chunks, none with a finish reason (nor, with
    `usage: final_only`, any usage: the final chunk never comes)."""
    every = behaviour is None or behaviour.usage == "every_chunk"
    text = reply.text if isinstance(reply, TextReply) else CUT_FALLBACK_TEXT
    pieces = split_tokens(text)
    if len(pieces) < 2:
        pieces = split_tokens(CUT_FALLBACK_TEXT)
    kept = pieces[: max(1, len(pieces) // 2)]
    chunks, tokens = [], 0
    for piece in kept:
        tokens += count_tokens(piece)
        chunks.append(chunk(meta, {"content": piece}, None, tokens, with_usage=every))
    return chunks


def role_chunk(meta: ResponseMeta, behaviour: Behaviour | None = None) -> dict[str, Any]:
    """A content-free chunk, as sent before a `hang`."""
    every = behaviour is None or behaviour.usage == "every_chunk"
    return chunk(meta, {}, None, 0, with_usage=every)


def length_chunk(meta: ResponseMeta) -> dict[str, Any]:
    """The sole chunk of a `length` failure: truncated before any content."""
    return chunk(meta, {}, "length", 0)


def completion_body(
    meta: ResponseMeta,
    reply: Reply,
    behaviour: Behaviour,
    key: bytes,
    issue: CallIssue = CallIssue(),
) -> dict[str, Any]:
    """A non-streamed `chat.completion`; tool-call turns say `finish_reason: "tool_calls"` here."""
    if isinstance(reply, TextReply):
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        finish, tokens = "stop", count_tokens(reply.text)
    else:
        calls = tool_call_payloads(reply.calls, behaviour, key, streamed=False, issue=issue)
        message = {"role": "assistant", "content": None, "tool_calls": calls}
        finish, tokens = "tool_calls", sum(_call_tokens(call) for call in calls)
    return _completion(meta, message, finish, tokens)


def length_completion_body(meta: ResponseMeta) -> dict[str, Any]:
    return _completion(meta, {"role": "assistant", "content": None}, "length", 0)


def _completion(
    meta: ResponseMeta, message: dict[str, Any], finish_reason: str, completion_tokens: int
) -> dict[str, Any]:
    return {
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": usage(meta, completion_tokens),
    }
