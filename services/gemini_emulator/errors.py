"""Error responses in Gemini's shape.

Gemini's OpenAI-compatible endpoint does NOT use OpenAI's `{"error": {...}}` object: the body is
a JSON *array* holding one such object, with a gRPC-style `status` name. Clients that assume the
OpenAI shape break on it, which is exactly what the emulator must let tests catch.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Response

# gRPC status names Gemini puts next to each HTTP code.
STATUS_NAMES: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}

# Gemini's own wording, so log lines and error surfacing look like production.
DEFAULT_MESSAGES: dict[int, str] = {
    400: "Request contains an invalid argument.",
    401: "Missing or invalid API key. Please pass a valid API key.",
    403: "The caller does not have permission.",
    404: "Requested entity was not found.",
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}


def error_body(code: int, message: str | None = None) -> list[dict[str, Any]]:
    """The JSON value Gemini returns for an HTTP error `code`."""
    return [
        {
            "error": {
                "code": code,
                "message": message or DEFAULT_MESSAGES.get(code, "Unknown error."),
                "status": STATUS_NAMES.get(code, "UNKNOWN"),
            }
        }
    ]


def error_response(
    code: int, message: str | None = None, *, retry_after_s: int | None = None
) -> Response[bytes]:
    """A ready-to-return Litestar response; `retry_after_s` adds a `Retry-After` header."""
    headers = {} if retry_after_s is None else {"Retry-After": str(retry_after_s)}
    return Response(
        content=msgspec.json.encode(error_body(code, message)),
        status_code=code,
        media_type="application/json",
        headers=headers,
    )
