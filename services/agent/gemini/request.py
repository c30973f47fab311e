"""Shaping the request the SDK builds into one Gemini accepts."""

from __future__ import annotations

import copy
from typing import Any

from services.agent.gemini.schema import GeminiToolSchemas
from services.agent.gemini.signatures import SignatureScope, SignatureStore, call_key
from services.agent.gemini.thoughts import THOUGHT_TAG_MARKER
from shared.settings import GeminiSettings

# Gemini answers 400 to any top-level field it does not know.
REJECTED_FIELDS = frozenset({"store", "metadata", "google"})


def thinking_fields(settings: GeminiSettings) -> dict[str, Any]:
    """`reasoning_effort` or `extra_body.google.thinking_config`, as configured (never both).

    Thought summaries are asked for with a tag marker: without one Vertex sends them untagged
    inside the answer text, where nothing could tell them apart (`thoughts.py`)."""
    if settings.reasoning_effort is not None:
        return {"reasoning_effort": settings.reasoning_effort}
    config: dict[str, Any] = {}
    if settings.thinking_budget is not None:
        config["thinking_budget"] = settings.thinking_budget
    if settings.include_thoughts:
        config["include_thoughts"] = True
    if not config:
        return {}
    google: dict[str, Any] = {"thinking_config": config}
    if settings.include_thoughts:
        google["thought_tag_marker"] = THOUGHT_TAG_MARKER
    return {"extra_body": {"extra_body": {"google": google}}}


def _key_of(call: dict[str, Any]) -> str | None:
    function = call.get("function") or {}
    if not call.get("id"):
        return None
    return call_key(
        str(call["id"]), str(function.get("name", "")), str(function.get("arguments", ""))
    )


def _unsigned_call_keys(messages: list[dict[str, Any]]) -> list[str]:
    keys = []
    for message in messages:
        for call in message.get("tool_calls") or []:
            google = (call.get("extra_content") or {}).get("google") or {}
            if not google.get("thought_signature") and (key := _key_of(call)) is not None:
                keys.append(key)
    return keys


async def prepare_request(
    kwargs: dict[str, Any],
    settings: GeminiSettings,
    signatures: SignatureStore,
    scope: SignatureScope | None,
    schemas: GeminiToolSchemas,
) -> dict[str, Any]:
    """A copy of the SDK's `create` arguments, cleaned for Gemini: tool schemas in Gemini's
    subset, the signatures of `scope`'s thread restored (none without a scope)."""
    prepared = {k: v for k, v in kwargs.items() if k not in REJECTED_FIELDS}
    if "tools" in prepared:
        prepared["tools"] = schemas.tools(prepared["tools"])
    # A side call that chose its own thinking (a title) keeps it: the configured thinking is
    # for answers, and `reasoning_effort` with a thinking config is refused.
    chosen = prepared.get("reasoning_effort")
    configured = {} if isinstance(chosen, str) else thinking_fields(settings)
    for key, value in configured.items():
        if key == "extra_body":
            value = {**(prepared.get("extra_body") or {}), **value}
        prepared[key] = value

    messages = prepared.get("messages")
    if isinstance(messages, list) and scope is not None:
        found = await signatures.load(scope, _unsigned_call_keys(messages))
        if found:
            messages = copy.deepcopy(messages)
            for message in messages:
                for call in message.get("tool_calls") or []:
                    signature = found.get(_key_of(call) or "")
                    if signature is not None:
                        call["extra_content"] = {
                            **(call.get("extra_content") or {}),
                            "google": {"thought_signature": signature},
                        }
            prepared["messages"] = messages
    return prepared
