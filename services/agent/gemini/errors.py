"""Model failures, with the details Gemini put in its JSON-array error bodies."""

from __future__ import annotations

from typing import Any

import openai


class ModelError(Exception):
    """A model call failed; `retryable` says whether the same request may succeed later."""

    def __init__(self, message: str, *, status_code: int | None, retryable: bool) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.retryable = retryable


class ModelStreamCutError(ModelError):
    """The answer stream ended without a finish reason: the connection was cut mid-answer."""

    def __init__(self) -> None:
        super().__init__(
            "the model stream ended without a finish reason", status_code=None, retryable=True
        )


RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


def gemini_error_detail(body: object) -> tuple[str | None, str | None]:
    """(status, message) from Gemini's `[{"error": {...}}]` body (or OpenAI's `{"error": ...}`)."""
    error: Any = None
    if isinstance(body, list) and body and isinstance(body[0], dict):
        error = body[0].get("error", body[0])
    elif isinstance(body, dict):
        error = body.get("error", body)
    if not isinstance(error, dict):
        return None, None
    status, message = error.get("status"), error.get("message")
    return (
        status if isinstance(status, str) else None,
        message if isinstance(message, str) else None,
    )


def from_openai_error(exc: openai.APIStatusError) -> ModelError:
    status, message = gemini_error_detail(exc.body)
    text = f"Gemini {exc.status_code} {status or ''}: {message or exc.message}".replace("  ", " ")
    return ModelError(
        text, status_code=exc.status_code, retryable=exc.status_code in RETRYABLE_STATUSES
    )
