"""Checks on a `/chatkit` request before it is parsed or queued: type, read time, message size."""

from __future__ import annotations

import asyncio
import json

from chatkit.types import (
    ChatKitReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    UserMessageInput,
    UserMessageTagContent,
)
from litestar import Request
from litestar.datastructures import State

from shared.errors import InvalidInputError, RequestTimeoutError, UnsupportedMediaTypeError


def require_json(request: Request[object, object, State]) -> None:
    """Only `application/json` bodies: an HTML form (which any site can make a browser post)
    can only send form or text types."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaTypeError(
            "Send ChatKit requests as JSON (Content-Type: application/json)."
        )


async def read_body(request: Request[object, object, State], timeout_s: float) -> bytes:
    """The whole body, or 408 for a client that trickles it (uvicorn itself never times out)."""
    try:
        async with asyncio.timeout(timeout_s):
            return await request.body()
    except TimeoutError:
        raise RequestTimeoutError(
            f"The request body did not arrive within {timeout_s:g} s."
        ) from None


def message_length(message: UserMessageInput) -> int:
    """Characters of a user message that can reach the model: its text, the text it quotes, and
    each tag's text and data (a tag is shown to the model with what it carries)."""
    length = len(message.quoted_text or "")
    for part in message.content:
        length += len(part.text)
        if isinstance(part, UserMessageTagContent) and part.data:
            length += len(json.dumps(part.data, ensure_ascii=False))
    return length


def check_message_length(parsed: ChatKitReq, max_chars: int) -> None:
    """Refuse a user message longer than `max_chars`, every part of it counted."""
    if not isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        return
    length = message_length(parsed.params.input)
    if length > max_chars:
        raise InvalidInputError(
            f"The message is {length:,} characters long; the limit is {max_chars:,}."
        )


def refuse_nul_characters(body: bytes) -> None:
    """Postgres text cannot hold NUL (U+0000): refuse it here, with a 400, rather than fail to
    store it later (in a worker, halfway through a turn). JSON can only carry it escaped."""
    if b"\\u0000" not in body:
        return
    pending: list[object] = [json.loads(body)]  # iterative: nesting depth costs no stack
    while pending:
        value = pending.pop()
        if isinstance(value, str) and "\x00" in value:
            raise InvalidInputError("Text in the request contains a NUL character (\\u0000).")
        if isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
