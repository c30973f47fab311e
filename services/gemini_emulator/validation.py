"""Rejecting chat requests the way Gemini does, so the worker cannot rely on leniency.

Gemini's endpoint is stricter than OpenAI's: a top-level field it does not know (`store`,
`metadata`, `verbosity`...) is refused with 400 instead of ignored, and so is an unknown field in
`extra_body.google`; every tool schema must fit its Schema subset (`schema_check.py`), and
thinking settings must fit the model's family (`profiles.py`). Every problem is reported, one
line each, as Gemini does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from services.gemini_emulator.profiles import ModelProfile
from services.gemini_emulator.schema_check import check_tools

ACCEPTED_FIELDS: Final = frozenset(
    {
        "model", "messages", "tools", "tool_choice", "stream", "stream_options", "temperature",
        "top_p", "n", "stop", "max_tokens", "max_completion_tokens", "presence_penalty",
        "frequency_penalty", "seed", "response_format", "reasoning_effort", "logprobs",
        "top_logprobs", "parallel_tool_calls", "extra_body",
    }
)  # fmt: skip
"""The top-level fields of Gemini's OpenAI-compatible chat endpoint (its compatibility guide)."""
_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
_THINKING_CONFIG_FIELDS = frozenset({"thinking_budget", "thinking_level", "include_thoughts"})
GOOGLE_FIELDS: Final = frozenset(
    {"thinking_config", "thought_tag_marker", "cached_content", "safety_settings"}
)
"""What `extra_body.google` may hold (Gemini's compatibility guide; the marker and safety
settings from Vertex's). Anything else is refused like an unknown top-level field."""


def validate_chat_request(
    body: Any, profile: ModelProfile | None = None, *, check_schemas: bool = True
) -> str | None:
    """None when `body` is acceptable, else the 400 message Gemini would give (tool schemas
    unchecked when not `check_schemas`)."""
    if not isinstance(body, Mapping):
        return "Invalid JSON payload received. Expected an object."
    problems = [
        f'Invalid JSON payload received. Unknown name "{field}": Cannot find field.'
        for field in body
        if field not in ACCEPTED_FIELDS
    ]
    if problems:
        return "\n".join(problems)
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
    problems = (check_tools(body.get("tools")) if check_schemas else []) + check_google(body)
    if profile is not None:
        problems += check_thinking(body, profile)
    return "\n".join(problems) if problems else None


def check_google(body: Mapping[str, Any]) -> list[str]:
    """The fields of `extra_body.google`, and the thought tag marker's type."""
    extra = body.get("extra_body")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    if google is None:
        return []
    if not isinstance(google, Mapping):
        return ["Invalid value at 'extra_body.google': expected an object."]
    problems = [
        f"Invalid JSON payload received. Unknown name \"{name}\" at 'extra_body.google': "
        "Cannot find field."
        for name in google
        if name not in GOOGLE_FIELDS
    ]
    marker = google.get("thought_tag_marker")
    if "thought_tag_marker" in google and not (isinstance(marker, str) and marker.strip()):
        problems.append("Invalid value at 'thought_tag_marker': expected a non-empty string.")
    return problems


def check_thinking(body: Mapping[str, Any], profile: ModelProfile) -> list[str]:
    """`reasoning_effort` and `extra_body.google.thinking_config` against the model's family."""
    problems = []
    effort = body.get("reasoning_effort")
    if effort is not None and effort not in profile.reasoning_efforts():
        problems.append(
            f"Invalid reasoning_effort {effort!r} for model {profile.model}: expected one of "
            f"{', '.join(profile.reasoning_efforts())}."
        )
    extra = body.get("extra_body")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    config = google.get("thinking_config") if isinstance(google, Mapping) else None
    if config is None:
        return problems
    if not isinstance(config, Mapping):
        return [*problems, "Invalid value at 'thinking_config': expected an object."]
    problems += [
        f"Invalid JSON payload received. Unknown name \"{name}\" at 'thinking_config': "
        "Cannot find field."
        for name in config
        if name not in _THINKING_CONFIG_FIELDS
    ]
    if effort is not None and ("thinking_budget" in config or "thinking_level" in config):
        problems.append("reasoning_effort and thinking_config cannot both set the thinking.")
    if "thinking_budget" in config and "thinking_level" in config:
        problems.append("You can only set one of thinking budget and thinking level.")
    level = config.get("thinking_level")
    if level is not None and str(level).lower() not in profile.thinking_levels():
        allowed = ", ".join(profile.thinking_levels()) or "none (use thinking_budget)"
        problems.append(
            f"Thinking level {level!r} is not supported for model {profile.model}; "
            f"supported: {allowed}."
        )
    if "thinking_budget" in config and not profile.takes_thinking_budget:
        problems.append(
            f"thinking_budget is not supported for model {profile.model}; use thinking_level "
            "(or reasoning_effort)."
        )
    return problems
