"""Re-joining a turn's stream with `Last-Event-ID`.

Every event the gateway relays has an SSE id `<turn id>:<seq>`. A client whose connection dropped
(or whose gateway restarted) sends the last id it got, either by repeating `POST /chatkit` with a
`Last-Event-ID` header or with `GET /chatkit/turns/{turn_id}/events` (what `EventSource` does by
itself), and receives exactly the events after it, then the rest of the turn live. Only the turn's
author may re-join; anyone else gets the same 404 as for a turn that never existed. A re-join takes
one of the user's stream slots while it relays (429 when none is left), and the stream of a turn
that was cancelled ends with a notice saying so.
"""

from __future__ import annotations

import re

from litestar import Request, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from services.gateway.resources import GatewayResources
from services.gateway.turns.error_events import SSE_HEADERS
from shared.errors import InvalidInputError, NotFoundError
from shared.request_context import RequestContext

_EVENT_ID = re.compile(r"^([0-9a-f]{32}):([0-9]{1,9})$")


def parse_last_event_id(raw: str) -> tuple[str, int]:
    match = _EVENT_ID.match(raw.strip())
    if match is None:
        raise InvalidInputError(
            "Last-Event-ID must be an event id this server sent: '<turn id>:<number>'."
        )
    return match.group(1), int(match.group(2))


async def rejoin_stream(
    turn_id: str, after_seq: int, resources: GatewayResources, context: RequestContext
) -> Stream:
    origin = await resources.turns.origin(turn_id)
    if origin is None or origin.user_id != context.user_id:
        raise NotFoundError("No such turn, or its events have expired.")
    frames = await resources.streams.rejoin(
        turn_id, origin.user_id, origin.thread_id, after_seq, news_channel=origin.news_channel
    )
    return Stream(
        frames,
        media_type="text/event-stream",
        headers={**SSE_HEADERS, "X-Turn-Id": turn_id},
    )


@get("/chatkit/turns/{turn_id:str}/events")
async def turn_events_endpoint(
    turn_id: FromPath[str],
    request: Request[object, object, State],
    resources: NamedDependency[GatewayResources],
    request_context: NamedDependency[RequestContext],
) -> Stream:
    last = request.headers.get("last-event-id")
    after_seq = 0
    if last:
        last_turn, after_seq = parse_last_event_id(last)
        if last_turn != turn_id:
            raise InvalidInputError("Last-Event-ID belongs to another turn.")
    return await rejoin_stream(turn_id, after_seq, resources, request_context)
