"""`POST /chatkit`: the single ChatKit endpoint."""

from __future__ import annotations

import time
import uuid

from chatkit.server import NonStreamingResult
from chatkit.types import (
    StreamingReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsRetryAfterItemReq,
    UserMessageItem,
    is_streaming_req,
)
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.response import Stream

from services.gateway.chatkit_requests import check_model_choice, parse_chatkit_request
from services.gateway.resources import GatewayResources
from services.gateway.turn_relay import relay_turn
from shared.errors import InvalidInputError, ServiceUnavailableError
from shared.observability.log_context import bind_log_context
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore
from shared.turns.messages import Turn

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@post(["/chatkit", "/api/chatkit"], status_code=200)
async def chatkit_endpoint(
    request: Request[object, object, State],
    resources: GatewayResources,
    request_context: RequestContext,
) -> Response[bytes] | Stream:
    body = await request.body()
    parsed = parse_chatkit_request(body)
    if is_streaming_req(parsed):
        check_model_choice(parsed, resources.settings.gemini.allowed_models)
        return await _start_turn(parsed, body, resources, request_context)
    result = await resources.chatkit.process(body, request_context)
    assert isinstance(result, NonStreamingResult)
    return Response(content=result.json, media_type="application/json")


async def _start_turn(
    parsed: StreamingReq,
    body: bytes,
    resources: GatewayResources,
    context: RequestContext,
) -> Stream:
    # A missing or foreign thread or item is a 4xx now, not an error halfway through a stream.
    await _check_targets(parsed, resources.store, context)

    turn_id = uuid.uuid4().hex
    bind_log_context(turn_id=turn_id)
    with resources.tracing.enqueueing(turn_id) as traceparent:
        turn = Turn(
            turn_id=turn_id,
            user_id=context.user_id,
            request=body,
            enqueued_at_ms=int(time.time() * 1000),
            traceparent=traceparent,
        )
        try:
            await resources.turns.enqueue(turn)
        except OSError as exc:  # redis-py's ConnectionError derives from it
            raise ServiceUnavailableError(
                "The turn queue is unreachable; try again shortly."
            ) from exc
    settings = resources.settings
    return Stream(
        relay_turn(
            turn.turn_id,
            resources.events,
            resources.notifier,
            resources.turns,
            start_timeout_s=settings.gateway.turn_start_timeout_s,
            heartbeat_interval_s=settings.worker.heartbeat_interval_s,
        ),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, "X-Turn-Id": turn.turn_id},
    )


async def _check_targets(
    parsed: StreamingReq, store: PostgresStore, context: RequestContext
) -> None:
    if isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        for attachment_id in parsed.params.input.attachments:
            await store.load_attachment(attachment_id, context)
    match parsed:
        case ThreadsCreateReq():
            return
        case ThreadsRetryAfterItemReq():
            item = await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
            if not isinstance(item, UserMessageItem):
                raise InvalidInputError("Only a user message can be retried.")
        case ThreadsAddStructuredInputReq():
            await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
        case ThreadsCustomActionReq() if parsed.params.item_id is not None:
            await store.load_item(parsed.params.thread_id, parsed.params.item_id, context)
        case (
            ThreadsAddUserMessageReq() | ThreadsAddClientToolOutputReq() | ThreadsCustomActionReq()
        ):
            await store.load_thread(parsed.params.thread_id, context)
