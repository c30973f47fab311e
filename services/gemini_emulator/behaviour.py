"""Switches for each way Gemini's endpoint differs from OpenAI's (defaults: what Gemini does).

Set at start-up from `EMULATOR_*` variables, at run time with `PUT /emulator/behaviour`, or for
one request with the header `X-Emulator-Behaviour: field=value,field=value`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

BEHAVIOUR_HEADER = "x-emulator-behaviour"

CHOICES: dict[str, tuple[str, ...]] = {
    # "omit": tool calls without `index` (Gemini); "include": OpenAI's 0, 1, ...
    "tool_call_index": ("omit", "include"),
    # finish_reason closing a streamed tool-call answer: Gemini says "stop".
    "tool_finish_reason": ("stop", "tool_calls"),
    # Where the thought signature goes: the first call of a group, a trailing delta, or nowhere.
    "signature_placement": ("first_call", "trailing_delta", "none"),
    # Cumulative usage on every chunk (Gemini) or only on the last.
    "usage": ("every_chunk", "final_only"),
}
FLAGS = ("empty_tool_call_ids", "require_signatures")


class BehaviourError(ValueError):
    """An unknown switch or a value it does not take."""


@dataclass(frozen=True, slots=True)
class Behaviour:
    tool_call_index: str = "omit"
    tool_finish_reason: str = "stop"
    signature_placement: str = "first_call"
    empty_tool_call_ids: bool = False
    usage: str = "every_chunk"
    require_signatures: bool = True
    """Refuse (400) a current-turn tool call sent back without its signature, as Gemini 3 does."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def with_changes(self, changes: Mapping[str, object]) -> Behaviour:
        values: dict[str, Any] = {name: _value(name, raw) for name, raw in changes.items()}
        return replace(self, **values)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Behaviour:
        names = [f.name for f in fields(cls)]
        changes = {
            n: env[f"EMULATOR_{n.upper()}"] for n in names if env.get(f"EMULATOR_{n.upper()}")
        }
        return cls().with_changes(changes)


def parse_header(value: str | None) -> dict[str, str]:
    if not value:
        return {}
    changes = {}
    for part in value.split(","):
        name, sep, raw = part.partition("=")
        if not sep:
            raise BehaviourError(f"expected field=value in {BEHAVIOUR_HEADER}, got {part!r}")
        changes[name.strip()] = raw.strip()
    return changes


def _value(name: str, raw: object) -> object:
    if name in CHOICES:
        if raw not in CHOICES[name]:
            raise BehaviourError(f"{name} must be one of {', '.join(CHOICES[name])}")
        return raw
    if name in FLAGS:
        if isinstance(raw, bool):
            return raw
        lowered = str(raw).lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise BehaviourError(f"{name} must be true or false")
    raise BehaviourError(f"unknown behaviour {name!r}")
