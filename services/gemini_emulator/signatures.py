"""Thought signatures the emulator can check without remembering them.

Scheme: `"emu1." + urlsafe_base64(HMAC-SHA256(key, conversation + "\x00" + name + "\x00" +
canonical(arguments)))`, where `name` and `arguments` are those of the FIRST tool call of the
group the signature was issued for, `canonical` re-serialises JSON arguments with sorted keys and
no spaces (arguments that are not JSON are signed as they are), `key` is 32 random bytes per
emulator instance, and `conversation` is empty for Gemini 2.5 and, for Gemini 3, the
conversation's fingerprint (`conversation_fingerprint`): a signature is worth nothing in another
conversation, even one with a call of the same id, name and arguments.

The call `id` is deliberately not signed: with `empty_tool_call_ids` the client has to make up its
own ids, and Gemini itself does not tie signatures to the OpenAI-layer ids. Any change to the
first call's name or arguments, or to the signature, is still caught. The signature is the same
wherever it was delivered (on the first call, or on a trailing delta), so a client that moves a
trailing signature onto the first call passes.

Gemini 3 refuses a current-turn tool call sent back without its signature; `check_signatures`
gives the same 400 message. With a conversation (the Gemini 3 profile), every signature the
request carries is checked, earlier turns' too: one from another conversation is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

from services.gemini_emulator.messages import content_text

PREFIX = "emu1."


def sign(key: bytes, name: str, arguments: str, conversation: str = "") -> str:
    """The signature issued for a group whose first call is `name(arguments)`."""
    prefix = f"{conversation}\x00" if conversation else ""
    signed = f"{prefix}{name}\x00{_canonical(arguments)}".encode()
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


def conversation_fingerprint(messages: Sequence[Any]) -> str:
    """What the emulator takes for the conversation's identity: a hash of its first user
    message (Gemini's own binding is opaque; two conversations opening with the same words look
    the same here)."""
    first = next((m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"), None)
    text = content_text(first.get("content")) if first is not None else ""
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def check_signatures(
    messages: Sequence[Any], key: bytes, conversation: str | None = None
) -> str | None:
    """None when every current-turn tool-call group carries its signature (and, with a
    `conversation`, every signature anywhere was issued in it), else Gemini's 400."""
    current_start = len(messages) - len(_current_turn(messages))
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping) or message.get("role") != "assistant":
            continue
        in_current_turn = position >= current_start
        calls = message.get("tool_calls")
        if not isinstance(calls, list) or not calls or not isinstance(calls[0], Mapping):
            continue
        first = calls[0]
        function = first.get("function")
        if not isinstance(function, Mapping):
            function = {}
        name, arguments = str(function.get("name", "")), str(function.get("arguments", ""))
        signature = _signature_of(first)
        # Earlier turns need no signature; a conversation-bound model still checks any it gets.
        if not in_current_turn and (signature is None or conversation is None):
            continue
        if signature is None:
            return (
                "Function call is missing a thought_signature in functionCall parts. This is "
                "required for tools to work correctly, and missing thought_signature may lead to "
                f"degraded model performance. Additional data, function call `default_api:{name}` "
                ", position 1. Please refer to https://ai.google.dev/gemini-api/docs/"
                "thought-signatures for more details."
            )
        expected = sign(key, name, arguments, conversation or "").encode()
        if not hmac.compare_digest(str(signature).encode(), expected):
            return (
                f"Invalid thought_signature for function call `default_api:{name}`, position 1: "
                "it does not match the function call and conversation it was issued for."
            )
    return None


def check_tool_messages(messages: Sequence[Any]) -> str | None:
    """Every tool result answers an assistant tool call made before it; every call has an id."""
    seen: set[str] = set()
    for position, message in enumerate(messages):
        if not isinstance(message, Mapping):
            continue
        calls = message.get("tool_calls") if message.get("role") == "assistant" else None
        for call in calls if isinstance(calls, list) else []:
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
