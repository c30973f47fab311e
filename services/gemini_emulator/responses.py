"""Litestar responses for a chat turn: normal, and each 200-status scripted failure.

Streams are async generators inside Litestar's `Stream`, which cancels them when the client
disconnects; that is what lets a `hang` sleep forever without leaking work or blocking others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import msgspec
from litestar import Response
from litestar.response import Stream

from services.gemini_emulator.behaviour import Behaviour
from services.gemini_emulator.chunks import (
    DONE,
    ResponseMeta,
    cut_chunks,
    length_chunk,
    length_completion_body,
    role_chunk,
    split_tokens,
    sse,
)
from services.gemini_emulator.failures import FailureMode
from services.gemini_emulator.pacing import Pacing
from services.gemini_emulator.rules import Reply, TextReply

# Headers Gemini sends on streams; no-cache also stops proxies from buffering SSE.
_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def streamed_chunks(
    meta: ResponseMeta,
    chunks: Sequence[dict[str, Any]],
    reply: Reply,
    behaviour: Behaviour,
    failure: FailureMode | None,
) -> list[dict[str, Any]]:
    """The chunks a streamed turn actually sends: `chunks`, or what `failure` leaves of them.

    The request log reports the last one's usage, which is what a client could have seen.
    """
    if failure is FailureMode.HANG:
        return [role_chunk(meta, behaviour)]
    if failure is FailureMode.CUT:
        return cut_chunks(meta, reply, behaviour)
    if failure is FailureMode.LENGTH:
        return [length_chunk(meta)]
    return list(chunks)


def stream_response(
    sent: Sequence[dict[str, Any]],
    pacing: Pacing,
    failure: FailureMode | None,
    log_entry: dict[str, Any],
) -> Response[Any]:
    """An SSE response sending `sent` (from `streamed_chunks`), shaped by `failure`.

    `log_entry["stream"]` says how the stream went: `open`, `finished`, or `abandoned` when the
    client closed it first, which is how tests see that a cancelled turn closed its model call.
    """
    if failure is FailureMode.HANG:
        body = _hang(sse(sent[0]))
    else:
        # A cut sends no finish chunk and no [DONE]: the body just ends, like a dropped upstream.
        body = _paced(sent, pacing, done=failure is not FailureMode.CUT)
    return Stream(_tracked(body, log_entry), media_type="text/event-stream", headers=_SSE_HEADERS)


async def _tracked(body: AsyncIterator[bytes], log_entry: dict[str, Any]) -> AsyncIterator[bytes]:
    log_entry["stream"] = "open"
    finished = False
    try:
        async for chunk in body:
            yield chunk
        finished = True
    finally:
        log_entry["stream"] = "finished" if finished else "abandoned"


def delivered_completion(
    meta: ResponseMeta, body: dict[str, Any], failure: FailureMode | None
) -> dict[str, Any] | None:
    """The non-streamed body a client receives whole, or None when it gets none (hang, cut)."""
    if failure is FailureMode.HANG or failure is FailureMode.CUT:
        return None
    if failure is FailureMode.LENGTH:
        return length_completion_body(meta)
    return body


async def completion_response(
    meta: ResponseMeta,
    body: dict[str, Any],
    reply: Reply,
    pacing: Pacing,
    failure: FailureMode | None,
) -> Response[Any]:
    """A non-streamed turn; waits as long as streaming the same reply would take."""
    if failure is FailureMode.HANG:
        # Headers go out, the body never does; Stream notices the client leaving.
        return Stream(_hang(None), media_type="application/json")
    if failure is FailureMode.LENGTH:
        await _sleep(pacing.first_token_delay_s)
        return _json(msgspec.json.encode(length_completion_body(meta)))
    text = reply.text if isinstance(reply, TextReply) else ""
    await _sleep(pacing.total_s(len(split_tokens(text)) or 1))
    encoded = msgspec.json.encode(body)
    if failure is FailureMode.CUT:
        # Half a JSON document: the non-streaming analogue of a dropped connection.
        return _json(encoded[: len(encoded) // 2])
    return _json(encoded)


def _json(body: bytes) -> Response[bytes]:
    return Response(content=body, media_type="application/json", status_code=200)


async def _paced(
    chunks: Sequence[dict[str, Any]], pacing: Pacing, *, done: bool
) -> AsyncIterator[bytes]:
    for position, payload in enumerate(chunks):
        await _sleep(pacing.first_token_delay_s if position == 0 else pacing.chunk_interval_s)
        yield sse(payload)
    if done:
        yield DONE


async def _hang(first: bytes | None) -> AsyncIterator[bytes]:
    if first is not None:
        yield first
    # Wait forever without polling: Litestar cancels this generator when the client
    # disconnects, and uvicorn's graceful-shutdown timeout covers clients that never do.
    await asyncio.Event().wait()


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
