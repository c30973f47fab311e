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

from services.gateway.attachments.message_attachments import (
    check_message_attachments,
    without_repeated_attachments,
)
from services.gateway.chatkit_requests import check_model_choice, parse_chatkit_request
from services.gateway.request_limits import (
    check_message_length,
    read_body,
    refuse_nul_characters,
    require_json,
)
from services.gateway.resources import GatewayResources
from services.gateway.turns.admission import Refusal, uses_a_message
from services.gateway.turns.error_events import SSE_HEADERS
from services.gateway.turns.refusals import refusal_response
from services.gateway.turns.resume import parse_last_event_id, rejoin_stream
from shared.errors import InvalidInputError
from shared.observability.log_context import bind_log_context
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore
from shared.turns.messages import Turn


@post(["/chatkit", "/api/chatkit"], status_code=200)
async def chatkit_endpoint(
    request: Request[object, object, State],
    resources: GatewayResources,
    request_context: RequestContext,
) -> Response[bytes] | Stream:
    require_json(request)
    last_event_id = request.headers.get("last-event-id")
    if last_event_id:
        # A client re-joining the turn whose stream it lost; the repeated body is not needed.
        turn_id, after_seq = parse_last_event_id(last_event_id)
        return await rejoin_stream(turn_id, after_seq, resources, request_context)
    body = await read_body(request, resources.settings.limits.body_read_timeout_s)
    parsed = parse_chatkit_request(body)
    refuse_nul_characters(body)
    check_message_length(parsed, resources.settings.limits.max_message_chars)
    if is_streaming_req(parsed):
        check_model_choice(parsed, resources.settings.gemini.allowed_models)
        return await _start_turn(parsed, body, resources, request_context)
    result = await resources.chatkit.process_parsed(parsed, request_context)
    assert isinstance(result, NonStreamingResult)
    return Response(content=result.json, media_type="application/json")


async def _start_turn(
    parsed: StreamingReq,
    body: bytes,
    resources: GatewayResources,
    context: RequestContext,
) -> Stream:
    # A missing or foreign thread or item is a 4xx now, not an error halfway through a stream.
    await check_message_attachments(
        parsed, resources.store, resources.blobs, resources.settings.attachments, context
    )
    body, parsed = without_repeated_attachments(body, parsed)
    thread_data = await _check_targets(parsed, resources.store, context)

    turn_id = uuid.uuid4().hex
    bind_log_context(turn_id=turn_id)
    with resources.tracing.enqueueing(turn_id) as traceparent:
        turn = Turn(
            turn_id=turn_id,
            user_id=context.user_id,
            request=body,
            enqueued_at_ms=int(time.time() * 1000),
            thread_id=None if isinstance(parsed, ThreadsCreateReq) else parsed.params.thread_id,
            traceparent=traceparent,
            thread_data=thread_data,
        )
    ticket = await resources.admission.admit(turn, counts_a_message=uses_a_message(parsed))
    if isinstance(ticket, Refusal):
        return refusal_response(ticket, turn.turn_id)
    return Stream(
        resources.streams.start(ticket),
        media_type="text/event-stream",
        headers={**SSE_HEADERS, "X-Turn-Id": turn.turn_id},
    )


async def _check_targets(
    parsed: StreamingReq, store: PostgresStore, context: RequestContext
) -> str | None:
    """Raise `NotFoundError` for a missing or foreign thread or item; the thread's stored
    metadata when it was read (the worker then need not read it again)."""
    match parsed:
        case ThreadsCreateReq():
            return None
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
            return await store.load_thread_data(parsed.params.thread_id, context)
    return None
