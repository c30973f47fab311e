"""`POST /chatkit/turns/{turn_id}/cancel`: the user's stop button, said explicitly.

A closed connection is ambiguous: the user pressed stop, or their phone changed networks. With
`ON_DISCONNECT=continue` (the default) a dropped stream leaves the turn running so the client can
re-join it with `Last-Event-ID`; a stop is this request instead, sent by the frontend's fetch
wrapper (`dev_page/static/turn-fetch.js`) when the request's `AbortSignal` fires. Only the turn's
author may stop it; anyone else gets the same 404 as for a turn that never existed (or whose
record expired). Stopping a turn that has already ended changes nothing, so the request is safe to
repeat.
"""

from __future__ import annotations

import re

from litestar import post
from litestar.di import NamedDependency
from litestar.params import FromPath
from pydantic import BaseModel

from services.gateway.resources import GatewayResources
from services.gateway.turns.cancelling import NO_SUCH_TURN, cancel_turn
from shared.errors import NotFoundError
from shared.observability.log_context import bind_log_context
from shared.request_context import RequestContext

_TURN_ID = re.compile(r"^[0-9a-f]{32}$")


class StopRequested(BaseModel):
    turn_id: str
    status: str = "cancel_requested"


@post("/chatkit/turns/{turn_id:str}/cancel", status_code=202)
async def stop_turn(
    turn_id: FromPath[str],
    resources: NamedDependency[GatewayResources],
    request_context: NamedDependency[RequestContext],
) -> StopRequested:
    if _TURN_ID.match(turn_id) is None:
        raise NotFoundError(NO_SUCH_TURN)
    bind_log_context(turn_id=turn_id)
    await cancel_turn(resources.turns, turn_id, request_context.user_id)
    return StopRequested(turn_id=turn_id)
