"""The model's streamed chunks, parsed by pydantic's validator instead of the OpenAI SDK's.

- The SDK builds each chunk with its lenient `construct_type`, in Python: about 50 µs a chunk, a
  third of a worker's CPU on a long answer. Validation in pydantic-core takes about 2 µs and gives
  an equal object for every chunk that fits the schema. One that does not (Gemini's tool calls
  come without `index`) goes the SDK's own way, so nothing the SDK would accept is refused.
- Chunks that arrive while the worker is busy are taken together, and the plain text chunks
  among them travel on as one (`text_bursts.py`): a burst costs what one chunk costs from here on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai._streaming import ServerSentEvent
from openai.types.chat import ChatCompletionChunk
from pydantic import ValidationError

from services.agent.gemini.text_bursts import join_text_chunks


class ChunkStream(openai.AsyncStream[ChatCompletionChunk]):
    async def __stream__(self) -> AsyncIterator[ChatCompletionChunk]:
        # A reader task takes events off the connection as they come; each time this generator
        # is asked for more, it takes everything that has arrived: one event when the worker
        # keeps up, many when it falls behind. (The HTTP layer hands on each chunk of the
        # transfer on its own, so a network read's boundaries cannot be seen from here.)
        response = self.response
        arrived: list[ServerSentEvent] = []
        wake = asyncio.Event()
        reader = asyncio.create_task(self._read_into(arrived, wake))
        try:
            done = False
            while not done:
                await wake.wait()
                wake.clear()
                ended = reader.done()  # before taking the events: then none can come after
                events = arrived[:]
                arrived.clear()
                chunks, done, failure = _parse(events, response)
                for data in join_text_chunks(chunks):
                    try:
                        yield ChatCompletionChunk.model_validate(data)
                    except ValidationError:
                        yield self._client._process_response_data(
                            data=data, cast_to=ChatCompletionChunk, response=response
                        )
                if failure is not None:
                    raise failure  # after what came before it
                if ended and not done:
                    reader.result()  # a failure to read; else the body ended without [DONE]
                    return
            # The rest of the body, so the connection can be reused; the answer is whole, so a
            # failure to read that rest only costs the connection.
            with contextlib.suppress(openai.APIError):
                await reader
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
            await response.aclose()

    async def _read_into(self, arrived: list[ServerSentEvent], wake: asyncio.Event) -> None:
        try:
            async for sse in self._iter_events():
                arrived.append(sse)
                wake.set()
        finally:
            wake.set()


def _parse(
    events: list[ServerSentEvent], response: Any
) -> tuple[list[Any], bool, openai.APIError | None]:
    """The chunks' JSON up to `[DONE]` (and whether it came) or up to an error sent in the
    stream (and that error, as the SDK raises it)."""
    chunks: list[Any] = []
    for sse in events:
        if sse.data.startswith("[DONE]"):
            return chunks, True, None
        data = sse.json()
        failure = _stream_error(data, response)
        if failure is not None:
            return chunks, False, failure
        chunks.append(data)
    return chunks, False, None


def _stream_error(data: Any, response: Any) -> openai.APIError | None:
    """An error sent inside the stream, as the SDK raises it; None for a chunk."""
    if not (isinstance(data, dict) and data.get("error")):
        return None
    error = data["error"]
    message = error.get("message") if isinstance(error, dict) else None
    return openai.APIError(
        message=message if isinstance(message, str) and message else
        "An error occurred during streaming",
        request=response.request,
        body=error,
    )  # fmt: skip
