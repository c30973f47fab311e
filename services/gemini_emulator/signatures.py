"""Thought signatures the emulator can check without remembering them.

A signature is an HMAC (per emulator instance key) over the first tool call's name and its
arguments as canonical JSON, so it stays verifiable when a client replaces an empty call id or
re-serialises the arguments, and any change to the call or the signature is caught. Gemini 3
refuses a current-turn tool call sent back without its signature; `check_signatures` gives the
same 400 message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

PREFIX = "emu1."


def sign(key: bytes, name: str, arguments: str) -> str:
    signed = f"{name}\x00{_canonical(arguments)}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return PREFIX + base64.urlsafe_b64encode(digest).decode("ascii")


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return arguments


def _signature_of(call: Mapping[str, Any]) -> object:
    extra = call.get("extra_content")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    return google.get("thought_signature") if isinstance(google, Mapping) else None


def _current_turn(messages: Sequence[Any]) -> Sequence[Any]:
    last_user = max(
        (i for i, m in enumerate(messages) if isinstance(m, Mapping) and m.get("role") == "user"),
        default=-1,
    )
    return messages[last_user + 1 :]


def check_signatures(messages: Sequence[Any], key: bytes) -> str | None:
    """None when every current-turn tool-call group carries its signature, else Gemini's 400."""
    for message in _current_turn(messages):
        calls = message.get("tool_calls") if isinstance(message, Mapping) else None
        if not calls or not isinstance(calls[0], Mapping):
            continue
        first = calls[0]
        function = first.get("function") or {}
        name, arguments = str(function.get("name", "")), str(function.get("arguments", ""))
        signature = _signature_of(first)
        if signature is None:
            return (
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly, and missing thought_signature may lead to "
                f"degraded model performance. Additional data, function call `default_api:{name}` "
                ", position 1. Please refer to https://ai.google.dev/gemini-api/docs/"
                "thought-signatures for more details."
            )
        if not hmac.compare_digest(str(signature), sign(key, name, arguments)):
            return (
                f"Invalid thought_signature for function call `default_api:{name}`, position 1: "
                "it does not match the function call it was issued with."
            )
    return None


def check_tool_messages(messages: Sequence[Any]) -> str | None:
    """Every tool result answers a call made before it, and every call has an id."""
    seen: set[str] = set()
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping):
            continue
        for call in message.get("tool_calls") or []:
            call_id = call.get("id") if isinstance(call, Mapping) else None
            if not isinstance(call_id, str) or not call_id:
                return f"messages[{position}]: every tool call needs a non-empty id."
            seen.add(call_id)
        if message.get("role") == "tool" and message.get("tool_call_id") not in seen:
            return (
                f"messages[{position}]: tool response for unknown tool_call_id "
                f"{message.get('tool_call_id')!r}."
            )
    return None
