"""`POST /chatkit/transcribe`: dictation on its own path, the one route with its larger body limit.

A clip of `TRANSCRIPTION_MAX_BYTES` is a third larger once base64-encoded in its JSON request;
raising the app's limit for it would let every route read that much. `/chatkit` keeps its small
limit, so a short clip still fits there; a client that sends longer ones points its
`input.transcribe` requests here.
"""

from __future__ import annotations

from chatkit.server import NonStreamingResult
from chatkit.types import InputTranscribeReq
from litestar import Request, Response, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler

from services.gateway.chatkit_requests import parse_chatkit_request
from services.gateway.request_limits import read_body, require_json
from services.gateway.resources import GatewayResources
from shared.errors import InvalidInputError
from shared.request_context import RequestContext
from shared.settings import Settings

TRANSCRIBE_PATHS = ["/chatkit/transcribe", "/api/chatkit/transcribe"]
JSON_OVERHEAD_BYTES = 64 * 1024


def transcription_body_limit(settings: Settings) -> int:
    """A `TRANSCRIPTION_MAX_BYTES` clip, base64-encoded, in its JSON request."""
    return settings.transcription.max_bytes * 4 // 3 + JSON_OVERHEAD_BYTES


async def transcribe_endpoint(
    request: Request[object, object, State],
    resources: NamedDependency[GatewayResources],
    request_context: NamedDependency[RequestContext],
) -> Response[bytes]:
    require_json(request)
    body = await read_body(request, resources.settings.limits.body_read_timeout_s)
    parsed = parse_chatkit_request(body)
    if not isinstance(parsed, InputTranscribeReq):
        raise InvalidInputError(
            "Only `input.transcribe` requests are taken here; send the others to /chatkit."
        )
    result = await resources.chatkit.process_parsed(parsed, request_context)
    assert isinstance(result, NonStreamingResult)
    return Response(content=result.json, media_type="application/json")


def transcription_route(settings: Settings) -> HTTPRouteHandler:
    return post(
        TRANSCRIBE_PATHS, status_code=200, request_max_body_size=transcription_body_limit(settings)
    )(transcribe_endpoint)
