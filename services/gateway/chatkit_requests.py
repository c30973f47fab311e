"""Parsing a ChatKit request body, with errors a client can act on."""

from __future__ import annotations

from chatkit.types import ChatKitReq, ThreadsAddUserMessageReq, ThreadsCreateReq
from pydantic import ValidationError

from shared.chatkit.server_base import chatkit_request_adapter
from shared.errors import InvalidInputError


def parse_chatkit_request(body: bytes) -> ChatKitReq:
    """Validate `body` against chatkit's request union or raise `InvalidInputError`."""
    if not body.strip():
        raise InvalidInputError("The request body is empty; send a ChatKit request as JSON.")
    try:
        return chatkit_request_adapter().validate_json(body)
    except ValidationError as exc:
        raise InvalidInputError(_describe(exc)) from exc


def _describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    if any(e["type"] == "json_invalid" for e in errors):
        return "The request body is not valid JSON."
    if any(e["type"] == "union_tag_invalid" for e in errors):
        return "Unknown ChatKit request type."
    if any(e["type"] == "union_tag_not_found" for e in errors):
        return "The request has no 'type' field."
    # Discriminated-union locations start with the request type, e.g. ('threads.create', 'params').
    problems = [
        f"{'.'.join(str(part) for part in e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors[:5]
    ]
    return "Invalid ChatKit request: " + "; ".join(problems)


def check_model_choice(parsed: ChatKitReq, allowed_models: tuple[str, ...]) -> None:
    """Refuse a model the deployment does not offer, before a turn is queued for it."""
    if not isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        return
    options = parsed.params.input.inference_options
    if options.model is not None and options.model not in allowed_models:
        raise InvalidInputError(
            f"Model {options.model!r} is not available; choose one of: " + ", ".join(allowed_models)
        )
