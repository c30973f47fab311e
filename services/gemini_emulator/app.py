"""The Litestar application: routes and wiring, no behaviour of its own.

`create_app` builds a fresh `EmulatorState` per app so tests can run several emulators in one
process; handlers receive state and config through dependency injection rather than globals.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Litestar, Request, Response, Router, delete, get, post, put
from litestar.di import NamedDependency, Provide

from services.gemini_emulator.behaviour import BEHAVIOUR_HEADER, BehaviourError, parse_header
from services.gemini_emulator.chunks import CallIssue, completion_body, new_meta, stream_chunks
from services.gemini_emulator.config import EmulatorConfig
from services.gemini_emulator.errors import error_body, error_response
from services.gemini_emulator.failures import (
    FAIL_HEADER,
    FailureMode,
    UnknownFailureMode,
    parse_mode,
    requested_failure,
)
from services.gemini_emulator.messages import (
    last_user_text,
    request_text_length,
    tool_call_count,
)
from services.gemini_emulator.pacing import pacing_for
from services.gemini_emulator.profiles import MODEL_IDS, ModelProfile, profile_for
from services.gemini_emulator.responses import (
    completion_response,
    delivered_completion,
    stream_response,
    streamed_chunks,
)
from services.gemini_emulator.rules import TextReply, choose_reply
from services.gemini_emulator.signatures import (
    check_signatures,
    check_tool_messages,
    conversation_fingerprint,
)
from services.gemini_emulator.state import EmulatorState
from services.gemini_emulator.thoughts import requested_thoughts, thought_chunks, with_thought
from services.gemini_emulator.validation import validate_chat_request

BASE_PATH = "/v1beta/openai"
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
    entry = emulator.record_request(body) if isinstance(body, dict) else {}

    def refuse(
        status: int,
        message: str | None = None,
        failure: FailureMode | None = None,
        retry_after_s: int | None = None,
    ) -> Response[bytes]:
        answer = error_body(status, message)[0]["error"]["message"]
        entry["response"] = logged_response(status, failure=failure, error=answer)
        return error_response(status, message, retry_after_s=retry_after_s)

    model = body.get("model") if isinstance(body, dict) else None
    profile = profile_for(model) if isinstance(model, str) else None
    try:
        behaviour = emulator.behaviour.with_changes(
            parse_header(request.headers.get(BEHAVIOUR_HEADER))
        )
    except ValueError as exc:
        return refuse(400, str(exc))
    problem = validate_chat_request(body, profile, check_schemas=behaviour.check_tool_schemas)
    if problem is not None:
        return refuse(400, problem)
    messages = body["messages"]
    issue = call_issue(profile, messages)
    try:
        pacing = pacing_for(request.headers, config)
        # A failure the request asks for itself does not consume the queued ones.
        after_tool = bool(messages) and messages[-1].get("role") == "tool"
        failure = requested_failure(
            request.headers.get(FAIL_HEADER), last_user_text(messages)
        ) or emulator.next_failure(ends_with_tool_result=after_tool)
        if failure is FailureMode.EMPTY_AFTER_TOOL and not after_tool:
            failure = None
    except (UnknownFailureMode, ValueError) as exc:
        return refuse(400, str(exc))
    problem = check_tool_messages(messages)
    if problem is None and behaviour.require_signatures:
        problem = check_signatures(
            messages, emulator.signing_key, issue.conversation if issue.conversation else None
        )
    if problem is not None:
        return refuse(400, problem)
    if failure is not None and failure.http_status is not None:
        retry_after = config.retry_after_s if failure is FailureMode.RATE_LIMITED else None
        return refuse(failure.http_status, failure=failure, retry_after_s=retry_after)
    reply = (
        TextReply("")
        if failure is FailureMode.EMPTY_AFTER_TOOL
        else choose_reply(messages, body.get("tools"))
    )
    if isinstance(reply, TextReply) and reply.text and thinking_crowds_out_answer(body, profile):
        failure = FailureMode.LENGTH
    meta = new_meta(body["model"], request_text_length(messages))
    thought = requested_thoughts(body)
    if body.get("stream") is True:
        chunks = stream_chunks(
            meta, reply, behaviour, emulator.signing_key, config.tokens_per_chunk, issue
        )
        if thought is not None:
            every = behaviour.usage == "every_chunk"
            chunks = thought_chunks(meta, thought, every_chunk_usage=every) + chunks
        sent = streamed_chunks(meta, chunks, reply, behaviour, failure)
        entry["response"] = logged_stream(sent, failure)
        return stream_response(sent, pacing, failure, entry)
    completion = completion_body(meta, reply, behaviour, emulator.signing_key, issue)
    if thought is not None:
        choice = completion["choices"][0]
        choice["message"] = with_thought(choice["message"], thought)
    entry["response"] = logged_completion(delivered_completion(meta, completion, failure), failure)
    return await completion_response(meta, completion, reply, pacing, failure)


def thinking_crowds_out_answer(body: dict[str, Any], profile: ModelProfile | None) -> bool:
    """Thinking tokens count against `max_tokens`: a small cap on a thinking model leaves no
    room for visible text, and the answer ends with `finish_reason: "length"` and no content."""
    cap = body.get("max_tokens", body.get("max_completion_tokens"))
    if profile is None or not isinstance(cap, int):
        return False
    return cap < profile.thinking_tokens(body)


def call_issue(profile: ModelProfile | None, messages: list[Any]) -> CallIssue:
    """Gemini 3: ids numbered within the conversation, signatures bound to it; 2.5: neither."""
    if profile is None or not profile.conversation_call_ids:
        return CallIssue()
    return CallIssue(
        conversation=conversation_fingerprint(messages), first_number=tool_call_count(messages)
    )


def logged_response(
    status: int,
    *,
    usage: dict[str, int] | None = None,
    tool_calls: list[str] | None = None,
    text: str = "",
    failure: FailureMode | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """What the request log says was answered; every entry has the same keys.

    `usage` is exactly what the last chunk (or the whole body) told the client, so summing it
    over a turn's responses gives what a correct client records; None when the client got none.
    """
    return {
        "status": status,
        "usage": usage,
        "tool_calls": tool_calls or [],
        "text": text,
        "failure": failure.value if failure is not None else None,
        "error": error,
    }


def logged_stream(sent: list[dict[str, Any]], failure: FailureMode | None) -> dict[str, Any]:
    deltas = [c["choices"][0]["delta"] for c in sent]
    return logged_response(
        200,
        usage=sent[-1]["usage"] if sent else None,
        tool_calls=[call["function"]["name"] for d in deltas for call in d.get("tool_calls", [])],
        text="".join(d.get("content") or "" for d in deltas),
        failure=failure,
    )


def logged_completion(
    delivered: dict[str, Any] | None, failure: FailureMode | None
) -> dict[str, Any]:
    if delivered is None:
        return logged_response(200, failure=failure)
    message = delivered["choices"][0]["message"]
    return logged_response(
        200,
        usage=delivered["usage"],
        tool_calls=[call["function"]["name"] for call in message.get("tool_calls") or []],
        text=message.get("content") or "",
        failure=failure,
    )


@get("/models")
async def list_models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [
            {"id": f"models/{model}", "object": "model", "owned_by": "google"}
            for model in MODEL_IDS
        ],
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
    """The last 50 exchanges, oldest first: `{"request": body, "response": {...}}` (see
    `logged_response`; `response` is null only while a request is still being validated)."""
    return emulator.requests()


@get("/emulator/behaviour")
async def current_behaviour(emulator: NamedDependency[EmulatorState]) -> dict[str, Any]:
    return emulator.behaviour.to_dict()


@put("/emulator/behaviour")
async def change_behaviour(
    request: Request[Any, Any, Any], emulator: NamedDependency[EmulatorState]
) -> Response[Any]:
    """`{"signature_placement": "trailing_delta", ...}`: change switches until reset."""
    try:
        changes = json.loads(await request.body())
        if not isinstance(changes, dict):
            raise BehaviourError("expected a JSON object of switches")
        emulator.behaviour = emulator.behaviour.with_changes(changes)
    except ValueError as exc:  # BehaviourError and JSON errors
        return Response({"detail": str(exc)}, status_code=400)
    return Response(emulator.behaviour.to_dict())


@delete("/emulator/behaviour")
async def reset_behaviour(emulator: NamedDependency[EmulatorState]) -> None:
    emulator.behaviour = emulator.default_behaviour


@delete("/emulator/requests")
async def clear_requests(emulator: NamedDependency[EmulatorState]) -> None:
    emulator.clear_requests()


def _queued(emulator: EmulatorState) -> dict[str, list[str]]:
    return {"queued": [mode.value for mode in emulator.queued_failures()]}


def create_app(config: EmulatorConfig | None = None) -> Litestar:
    """A new emulator app with its own empty state."""
    resolved = config or EmulatorConfig()
    key = resolved.signing_key.encode() if resolved.signing_key else None
    state = EmulatorState(resolved.behaviour, signing_key=key)

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
            current_behaviour,
            change_behaviour,
            reset_behaviour,
        ],
        dependencies={
            "emulator": Provide(provide_state, sync_to_thread=False),
            "config": Provide(provide_config, sync_to_thread=False),
        },
        # Not a documented API; skipping schema generation keeps start-up fast.
        openapi_config=None,
    )
