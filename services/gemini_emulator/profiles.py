"""What each Gemini model family does differently, chosen by the request's `model`.

- Gemini 3 (any model not named `gemini-2...`, so unknown and tuned names get the strict rules):
  tool call ids are short and numbered within the conversation (`call_4162774` style), so the
  same ids come back in every conversation; a thought signature is bound to the conversation it
  was issued in, and any signature sent back is checked; `reasoning_effort` and
  `thinking_config.thinking_level` take the model's thinking levels; `thinking_budget` is refused.
- Gemini 2.5: ids unique across conversations; signatures bound to the call only;
  `reasoning_effort` takes none/low/medium/high (`minimal` refused, `none` refused by 2.5 Pro,
  whose thinking cannot be turned off); `thinking_budget` accepted, `thinking_level` refused.

Levels per model are the ones Google's model guides list (docs/gemini.md has the sources).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

Family = Literal["gemini-3", "gemini-2.5"]

_ALL_LEVELS: Final = ("minimal", "low", "medium", "high")
_NO_MINIMAL: Final = ("low", "medium", "high")

THINKING_LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "gemini-3.8-flash": _NO_MINIMAL,
    "gemini-3.7-flash": _NO_MINIMAL,
    "gemini-3.6-flash": _ALL_LEVELS,
    "gemini-3.5-flash": _ALL_LEVELS,
    "gemini-3.5-flash-lite": _ALL_LEVELS,
    "gemini-3.1-flash-lite": _ALL_LEVELS,
    "gemini-3.1-pro-preview": _NO_MINIMAL,
    "gemini-3-flash-preview": _ALL_LEVELS,
    "gemini-3-pro-preview": ("low", "high"),
}
"""Gemini 3 models with the thinking levels each takes; other Gemini 3 names take low/high."""

THINKING_TOKENS: Final = {"none": 0, "minimal": 0, "low": 64, "medium": 256, "high": 1024}
DEFAULT_THINKING_TOKENS: Final = 256
"""Tokens thought per level (made up, in the right order); unset = dynamic thinking, as much as
"medium". They count against `max_tokens`, as Gemini's thinking tokens do."""

MODEL_IDS: Final = (*THINKING_LEVELS, "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.5-pro")
"""What `GET /models` lists."""


@dataclass(frozen=True, slots=True)
class ModelProfile:
    family: Family
    model: str

    @property
    def conversation_call_ids(self) -> bool:
        """Call ids numbered within the conversation (so they repeat across conversations)."""
        return self.family == "gemini-3"

    @property
    def conversation_bound_signatures(self) -> bool:
        return self.family == "gemini-3"

    def reasoning_efforts(self) -> tuple[str, ...]:
        """The `reasoning_effort` values this model takes."""
        if self.family == "gemini-3":
            return self.thinking_levels()
        if self.model.startswith("gemini-2.5-pro"):
            return ("low", "medium", "high")
        return ("none", "low", "medium", "high")

    def thinking_levels(self) -> tuple[str, ...]:
        """The `thinking_config.thinking_level` values this model takes (none for 2.5)."""
        if self.family != "gemini-3":
            return ()
        return THINKING_LEVELS.get(_base_name(self.model), ("low", "high"))

    def thinking_tokens(self, body: Mapping[str, Any]) -> int:
        """Tokens the emulated model spends thinking before it answers `body`."""
        extra = body.get("extra_body")
        google = extra.get("google") if isinstance(extra, Mapping) else None
        config = google.get("thinking_config") if isinstance(google, Mapping) else None
        if isinstance(config, Mapping):
            budget = config.get("thinking_budget")
            if isinstance(budget, int) and budget >= 0:
                return budget
            level = config.get("thinking_level")
            if isinstance(level, str):
                return THINKING_TOKENS.get(level.lower(), DEFAULT_THINKING_TOKENS)
        effort = body.get("reasoning_effort")
        if isinstance(effort, str):
            return THINKING_TOKENS.get(effort, DEFAULT_THINKING_TOKENS)
        return DEFAULT_THINKING_TOKENS

    @property
    def takes_thinking_budget(self) -> bool:
        return self.family == "gemini-2.5"


def profile_for(model: str) -> ModelProfile:
    name = _base_name(model)
    family: Family = "gemini-2.5" if name.startswith("gemini-2") else "gemini-3"
    return ModelProfile(family=family, model=name)


def _base_name(model: str) -> str:
    return model.removeprefix("models/").strip()
