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
from openai._streaming_cleanup import drain_response_async
from openai.types.chat import ChatCompletionChunk
from pydantic import ValidationError

from services.agent.gemini.text_bursts import join_text_chunks


class ChunkStream(openai.AsyncStream[ChatCompletionChunk]):
    async def __stream__(self) -> AsyncIterator[ChatCompletionChunk]:
        response = self.response
        try:
            async for events in self._read_batches():
                chunks: list[Any] = []
                done = False
                failure: openai.APIError | None = None
                for sse in events:
                    if sse.data.startswith("[DONE]"):
                        done = True
                        break
                    data = sse.json()
                    failure = _stream_error(data, response)
                    if failure is not None:
                        break  # what came before it is still delivered, then it is raised
                    chunks.append(data)
                for data in join_text_chunks(chunks):
                    try:
                        yield ChatCompletionChunk.model_validate(data)
                    except ValidationError:
                        yield self._client._process_response_data(
                            data=data, cast_to=ChatCompletionChunk, response=response
                        )
                if failure is not None:
                    raise failure
                if done:
                    if response.http_version == "HTTP/1.1":  # so the connection can be reused
                        await drain_response_async(response)
                    break
        finally:
            await response.aclose()

    async def _read_batches(self) -> AsyncIterator[list[ServerSentEvent]]:
        """The events that have arrived since the last batch was taken, a list at a time.

        A reader task takes events off the connection as they come, into a list; each batch
        is all of them at the moment the consumer asks, which is one event when the consumer
        keeps up and many when it falls behind. (The HTTP layer hands on each chunk of the
        transfer on its own, so a network read's boundaries cannot be seen from here.)
        """
        arrived: list[ServerSentEvent] = []
        wake = asyncio.Event()

        async def read() -> None:
            try:
                async for sse in self._iter_events():
                    arrived.append(sse)
                    wake.set()
            finally:
                wake.set()

        reader = asyncio.create_task(read())
        try:
            while True:
                await wake.wait()
                wake.clear()
                if arrived:
                    batch = arrived[:]
                    arrived.clear()
                    yield batch
                if reader.done() and not arrived:
                    reader.result()  # a failure to read is raised after what came before it
                    return
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader


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
