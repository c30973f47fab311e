"""Switches for each way Gemini's endpoint differs from OpenAI's (defaults: what Gemini does).

Three ways to set them, all parsed and checked by `Behaviour.with_changes` (the one place that
knows the fields and their values):
- start-up defaults: `EMULATOR_<FIELD>` variables or `--<field-with-dashes>` flags
  (`EMULATOR_TOOL_CALL_INDEX=include`, `--require-signatures false`);
- at run time: `PUT /emulator/behaviour` with a JSON object of fields (`GET` shows them, `DELETE`
  restores the start-up defaults);
- for one request: the header `X-Emulator-Behaviour: field=value,field=value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal, get_args

BEHAVIOUR_HEADER = "x-emulator-behaviour"

ToolCallIndex = Literal["omit", "include"]
ToolFinishReason = Literal["stop", "tool_calls"]
SignaturePlacement = Literal["first_call", "trailing_delta", "none"]
UsageReporting = Literal["every_chunk", "final_only"]

# The values each string switch takes (first = the default, i.e. Gemini's behaviour).
CHOICES: dict[str, tuple[str, ...]] = {
    "tool_call_index": get_args(ToolCallIndex),
    "tool_finish_reason": get_args(ToolFinishReason),
    "signature_placement": get_args(SignaturePlacement),
    "usage": get_args(UsageReporting),
}
FLAGS = ("empty_tool_call_ids", "require_signatures", "check_tool_schemas")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


class BehaviourError(ValueError):
    """An unknown switch or a value it does not take."""


@dataclass(frozen=True, slots=True)
class Behaviour:
    # "omit": streamed tool calls carry no `index` (Gemini); "include": OpenAI's 0, 1, ...
    tool_call_index: ToolCallIndex = "omit"
    # finish_reason closing a *streamed* tool-call answer; Gemini says "stop". (Non-streamed
    # answers always say "tool_calls".)
    tool_finish_reason: ToolFinishReason = "stop"
    # Where `extra_content.google.thought_signature` goes: on the first call of a parallel group
    # (Gemini), on an extra delta after the calls (streams only; a non-streamed answer has no
    # deltas, so it falls back to the first call), or nowhere.
    signature_placement: SignaturePlacement = "first_call"
    # Tool calls sent with `"id": ""`; the client must make up its own ids.
    empty_tool_call_ids: bool = False
    # Cumulative usage on every chunk (Gemini) or only on the last.
    usage: UsageReporting = "every_chunk"
    # Refuse (400) a current-turn tool call sent back without its signature, as Gemini 3 does.
    require_signatures: bool = True
    # Refuse (400) tool schemas outside Gemini's Schema subset (`schema_check.py`), as Gemini does.
    # Off only to measure a yardstick written for OpenAI's strict schemas (the benchmark's
    # single-process anchor sends `additionalProperties`); TaskChat is never tested with it off.
    check_tool_schemas: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, changes: Mapping[str, object]) -> Behaviour:
        """A copy with `changes` applied; values may be typed or strings (env, flags, header).

        Raises BehaviourError on an unknown field or a value the field does not take.
        """
        values: dict[str, Any] = {name: parse_value(name, raw) for name, raw in changes.items()}
        return replace(self, **values)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Behaviour:
        """Defaults overridden by non-empty `EMULATOR_<FIELD>` variables."""
        changes = {name: env[var] for name, var in env_names().items() if env.get(var, "").strip()}
        return cls().with_changes(changes)


def field_names() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Behaviour))


def env_names() -> dict[str, str]:
    """Field name -> its start-up environment variable."""
    return {name: f"EMULATOR_{name.upper()}" for name in field_names()}


def allowed_values(name: str) -> tuple[str, ...]:
    """The values a field takes, as text (for help messages and flags)."""
    if name in CHOICES:
        return CHOICES[name]
    if name in FLAGS:
        return ("true", "false")
    raise BehaviourError(f"unknown behaviour {name!r}; fields: {', '.join(field_names())}")


def parse_header(value: str | None) -> dict[str, str]:
    """`field=value,field=value` -> raw changes (checked later by `with_changes`)."""
    if not value or not value.strip():
        return {}
    changes = {}
    for part in value.split(","):
        if not part.strip():
            continue
        name, sep, raw = part.partition("=")
        if not sep:
            raise BehaviourError(f"expected field=value in {BEHAVIOUR_HEADER}, got {part!r}")
        changes[name.strip()] = raw.strip()
    return changes


def parse_value(name: str, raw: object) -> object:
    """The typed value of field `name`; strings are accepted for every field."""
    allowed = allowed_values(name)
    if name in CHOICES:
        value = raw.strip() if isinstance(raw, str) else raw
        if value not in allowed:
            raise BehaviourError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
        return value
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
    raise BehaviourError(f"{name} must be true or false, got {raw!r}")
