"""The Litestar application: routes and wiring, no behaviour of its own.

`create_app` builds a fresh `EmulatorState` per app so tests can run several emulators in one
process; handlers receive state and config through dependency injection rather than globals.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar, Request, Response, Router, delete, get, post
from litestar.di import NamedDependency, Provide

from services.gemini_emulator.chunks import new_meta
from services.gemini_emulator.config import EmulatorConfig
from services.gemini_emulator.errors import error_response
from services.gemini_emulator.failures import (
    FAIL_HEADER,
    FailureMode,
    UnknownFailureMode,
    parse_mode,
    requested_failure,
)
from services.gemini_emulator.messages import last_user_text, request_text_length
from services.gemini_emulator.pacing import pacing_for
from services.gemini_emulator.responses import completion_response, stream_response
from services.gemini_emulator.rules import choose_reply
from services.gemini_emulator.state import EmulatorState
from services.gemini_emulator.validation import validate_chat_request

BASE_PATH = "/v1beta/openai"
MODEL_IDS = (
    "models/gemini-2.5-flash",
    "models/gemini-2.5-flash-lite",
    "models/gemini-2.5-pro",
    "models/gemini-2.0-flash",
)
MAX_QUEUED_FAILURES = 1000


async def require_api_key(request: Request[Any, Any, Any]) -> Response[bytes] | None:
    """Any non-empty bearer token passes; the point is to catch a worker sending none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return error_response(401)
    return None


@post("/chat/completions", status_code=200)
async def chat_completions(
    request: Request[Any, Any, Any],
    emulator: NamedDependency[EmulatorState],
    config: NamedDependency[EmulatorConfig],
) -> Response[Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        return error_response(400, "Invalid JSON payload received.")
    # Logged before validation so tests can also inspect requests that were rejected.
    if isinstance(body, dict):
        emulator.record_request(body)
    problem = validate_chat_request(body)
    if problem is not None:
        return error_response(400, problem)
    messages = body["messages"]
    try:
        pacing = pacing_for(request.headers, config)
        # A failure the request asks for itself does not consume the queued ones.
        failure = (
            requested_failure(request.headers.get(FAIL_HEADER), last_user_text(messages))
            or emulator.next_failure()
        )
    except (UnknownFailureMode, ValueError) as exc:
        return error_response(400, str(exc))
    if failure is not None and failure.http_status is not None:
        retry_after = config.retry_after_s if failure is FailureMode.RATE_LIMITED else None
        return error_response(failure.http_status, retry_after_s=retry_after)
    reply = choose_reply(messages, body.get("tools"))
    meta = new_meta(body["model"], request_text_length(messages))
    if body.get("stream") is True:
        return stream_response(meta, reply, pacing, failure)
    return await completion_response(meta, reply, pacing, failure)


@get("/models")
async def list_models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": model, "object": "model", "owned_by": "google"} for model in MODEL_IDS],
    }


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@post("/emulator/failures", status_code=200)
async def enqueue_failures(
    request: Request[Any, Any, Any], emulator: NamedDependency[EmulatorState]
) -> Response[Any]:
    """`{"mode": "429", "count": 2}`: the next `count` chat requests fail with `mode`."""
    try:
        body = json.loads(await request.body())
        mode = parse_mode(str(body["mode"]))
        count = body.get("count", 1)
    except (ValueError, KeyError, TypeError) as exc:
        return Response({"detail": f"expected {{'mode': ..., 'count': N}}: {exc}"}, status_code=400)
    if (
        not isinstance(count, int)
        or isinstance(count, bool)
        or not 1 <= count <= MAX_QUEUED_FAILURES
    ):
        return Response({"detail": f"count must be 1..{MAX_QUEUED_FAILURES}"}, status_code=400)
    emulator.enqueue_failures(mode, count)
    return Response(_queued(emulator))


@get("/emulator/failures")
async def queued_failures(emulator: NamedDependency[EmulatorState]) -> dict[str, list[str]]:
    return _queued(emulator)


@delete("/emulator/failures")
async def clear_failures(emulator: NamedDependency[EmulatorState]) -> None:
    emulator.clear_failures()


@get("/emulator/requests")
async def received_requests(emulator: NamedDependency[EmulatorState]) -> list[Any]:
    """The last chat request bodies, oldest first."""
    return emulator.requests()


@delete("/emulator/requests")
async def clear_requests(emulator: NamedDependency[EmulatorState]) -> None:
    emulator.clear_requests()


def _queued(emulator: EmulatorState) -> dict[str, list[str]]:
    return {"queued": [mode.value for mode in emulator.queued_failures()]}


def create_app(config: EmulatorConfig | None = None) -> Litestar:
    """A new emulator app with its own empty state."""
    resolved = config or EmulatorConfig()
    state = EmulatorState()

    def provide_state() -> EmulatorState:
        return state

    def provide_config() -> EmulatorConfig:
        return resolved

    gemini = Router(
        path=BASE_PATH,
        route_handlers=[chat_completions, list_models],
        before_request=require_api_key,
    )
    return Litestar(
        route_handlers=[
            gemini,
            healthz,
            enqueue_failures,
            queued_failures,
            clear_failures,
            received_requests,
            clear_requests,
        ],
        dependencies={
            "emulator": Provide(provide_state, sync_to_thread=False),
            "config": Provide(provide_config, sync_to_thread=False),
        },
        # Not a documented API; skipping schema generation keeps start-up fast.
        openapi_config=None,
    )
