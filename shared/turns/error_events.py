"""The ChatKit events a turn ends with when it does not end with an answer: built here only, by
the worker (in the turn's log) and the gateway (in the stream) alike."""

from __future__ import annotations

from chatkit.types import ErrorEvent, NoticeEvent


def error_event(message: str, *, allow_retry: bool) -> bytes:
    """A ChatKit `error` event as JSON: ChatKit.js shows `message`, with a retry button when
    `allow_retry`."""
    event = ErrorEvent(code="custom", message=message, allow_retry=allow_retry)
    return event.model_dump_json(by_alias=True, exclude_none=True).encode()


def notice_event(message: str) -> bytes:
    """A ChatKit `notice` event as JSON: something the user should know that is not a failure."""
    event = NoticeEvent(level="info", message=message)
    return event.model_dump_json(by_alias=True, exclude_none=True).encode()
