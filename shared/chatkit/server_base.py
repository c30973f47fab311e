"""chatkit's `ChatKitServer`, parsing requests with a request adapter built once per process.

`ChatKitServer.process` (openai-chatkit 1.6) builds a pydantic `TypeAdapter` for the whole request
union on every call: about 15-20 ms of CPU per request, the largest single cost of a turn before
the model call, in the gateway (non-streaming requests) and in the worker (every turn). Both our
servers derive from this class instead, and the gateway hands over the request it has already
parsed (`process_parsed`), so a body is parsed once.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from functools import cache

from chatkit.logger import logger as chatkit_logger
from chatkit.server import ChatKitServer, NonStreamingResult, StreamingResult
from chatkit.types import ChatKitReq, ThreadStreamEvent, is_streaming_req
from pydantic import TypeAdapter

from shared.request_context import RequestContext


@cache
def chatkit_request_adapter() -> TypeAdapter[ChatKitReq]:
    return TypeAdapter(ChatKitReq)


class ChatKitServerBase(ChatKitServer[RequestContext]):
    async def process(
        self, request: str | bytes | bytearray, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        return await self.process_parsed(chatkit_request_adapter().validate_json(request), context)

    async def process_parsed(
        self, request: ChatKitReq, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        """`process` for a request already validated (chatkit's routing and log line, unchanged)."""
        chatkit_logger.info("Received request op: %s", request.type)
        if is_streaming_req(request):
            return StreamingResult(self._process_streaming(request, context))
        return NonStreamingResult(await self._process_non_streaming(request, context))

    def stream_events(
        self, request: str | bytes | bytearray, context: RequestContext
    ) -> AsyncGenerator[ThreadStreamEvent, None]:
        """The events of a streaming request, before chatkit serializes them (what chatkit's
        `StreamingResult` would send as `data:` frames, one by one), so a worker can merge text
        deltas before any JSON is written. `TypeError` for a non-streaming request."""
        parsed = chatkit_request_adapter().validate_json(request)
        if not is_streaming_req(parsed):
            raise TypeError("a turn must be a streaming ChatKit request")
        chatkit_logger.info("Received request op: %s", parsed.type)
        return self._process_streaming_impl(parsed, context)

    def event_json(self, event: ThreadStreamEvent) -> bytes:
        """An event's JSON exactly as chatkit writes it in its stream."""
        return self._serialize(event)
