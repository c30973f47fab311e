"""Rejecting chat requests the way Gemini does, so the worker cannot rely on leniency.

Gemini's endpoint is stricter than OpenAI's: OpenAI-only fields such as `store` and `metadata`
are refused with 400 instead of ignored, which is the main thing this module reproduces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REJECTED_FIELDS = ("store", "metadata", "google")
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def validate_chat_request(body: Any) -> str | None:
    """None when `body` is acceptable, else the 400 message Gemini would give."""
    if not isinstance(body, Mapping):
        return "Invalid JSON payload received. Expected an object."
    for field in REJECTED_FIELDS:
        if field in body:
            return f'Invalid JSON payload received. Unknown name "{field}": Cannot find field.'
    model = body.get("model")
    if not isinstance(model, str) or not model.strip():
        return "model is not specified"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "* GenerateContentRequest.contents: contents is not specified"
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") not in _ROLES:
            return f"Invalid message at messages[{position}]: a known `role` is required."
    if "stream" in body and not isinstance(body["stream"], bool):
        return 'Invalid value at "stream": expected a boolean.'
    if "tools" in body and body["tools"] is not None and not isinstance(body["tools"], list):
        return 'Invalid value at "tools": expected a list.'
    return None
