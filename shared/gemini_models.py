"""What we know of Gemini's model families, to check model settings at start-up.

A setting one family refuses (`reasoning_effort: "minimal"` on 2.5, a thinking budget on
Gemini 3) would otherwise fail every turn with a 400. Settings apply to `GEMINI_MODEL` and every
model in `GEMINI_ALLOWED_MODELS`, so each is checked. The levels and dates below are from Google's
pages listed in docs/gemini.md (read 2026-11-30); a model name we do not recognise (a tuned
model, say) is not checked.
"""

from __future__ import annotations

import datetime as dt
from typing import Final, Literal

Family = Literal["gemini-3", "gemini-2.5"]

_ALL_LEVELS: Final = ("minimal", "low", "medium", "high")
_NO_MINIMAL: Final = ("low", "medium", "high")

GEMINI_3_THINKING_LEVELS: Final[dict[str, tuple[str, ...]]] = {
    "gemini-3.8-flash": _NO_MINIMAL,
    "gemini-3.7-flash": _NO_MINIMAL,
    "gemini-3.6-flash": _ALL_LEVELS,
    "gemini-3.5-flash": _ALL_LEVELS,
    "gemini-3.5-flash-lite": _ALL_LEVELS,
    "gemini-3.1-flash-lite": _ALL_LEVELS,
    "gemini-3.1-pro-preview": _NO_MINIMAL,
    "gemini-3-flash-preview": _ALL_LEVELS,
}
"""The thinking levels (`GEMINI_REASONING_EFFORT` values) each Gemini 3 model takes."""

SHUTDOWN_DATES: Final[dict[str, dt.date]] = {
    "gemini-2.0-flash": dt.date(2026, 6, 1),
    "gemini-2.0-flash-001": dt.date(2026, 6, 1),
    "gemini-2.0-flash-lite": dt.date(2026, 6, 1),
    "gemini-2.0-flash-lite-001": dt.date(2026, 6, 1),
    "gemini-3-pro-preview": dt.date(2026, 3, 9),
    "gemini-2.5-pro": dt.date(2026, 12, 1),
    "gemini-2.5-flash": dt.date(2026, 12, 1),
}
"""Models Google has announced it shuts down, and when (its deprecations page)."""

RETIREMENT_NOTICE_DAYS: Final = 60


def family_of(model: str) -> Family | None:
    name = model.removeprefix("models/")
    if name.startswith("gemini-3"):
        return "gemini-3"
    if name.startswith("gemini-2.5"):
        return "gemini-2.5"
    return None


def reasoning_efforts(model: str) -> tuple[str, ...] | None:
    """The `reasoning_effort` values `model` takes; None when we do not know the model."""
    name = model.removeprefix("models/")
    family = family_of(name)
    if family == "gemini-3":
        return GEMINI_3_THINKING_LEVELS.get(name, ("low", "high"))
    if family == "gemini-2.5":
        # 2.5 Pro cannot turn thinking off; `minimal` is a Gemini 3 level.
        return ("low", "medium", "high") if name.startswith("gemini-2.5-pro") else (
            "none", "low", "medium", "high"
        )  # fmt: skip
    return None


def setting_problems(
    model: str, *, reasoning_effort: str | None, thinking_budget: int | None
) -> list[str]:
    """One line per model setting `model` would refuse (with a 400 on every turn)."""
    problems = []
    family = family_of(model)
    accepted = reasoning_efforts(model)
    if reasoning_effort is not None and accepted is not None and reasoning_effort not in accepted:
        problems.append(
            f"GEMINI_REASONING_EFFORT={reasoning_effort} is not accepted by {model} "
            f"(it takes {', '.join(accepted)})"
        )
    if thinking_budget is not None and family == "gemini-3":
        problems.append(
            f"GEMINI_THINKING_BUDGET is for Gemini 2.5 models; {model} takes a thinking level: "
            f"set GEMINI_REASONING_EFFORT ({', '.join(accepted or ())}) instead"
        )
    return problems


def retirement_notice(model: str, today: dt.date) -> str | None:
    """A line saying `model` is shut down, or will be within `RETIREMENT_NOTICE_DAYS`."""
    shutdown = SHUTDOWN_DATES.get(model.removeprefix("models/"))
    if shutdown is None or (shutdown - today).days > RETIREMENT_NOTICE_DAYS:
        return None
    if shutdown <= today:
        return f"{model} was shut down by Google on {shutdown.isoformat()}: requests to it fail"
    return f"{model} is shut down by Google on {shutdown.isoformat()}: choose a current model"


def lightest_reasoning_effort(model: str) -> str | None:
    """The least thinking `model` takes (`none`, else `minimal`, else `low`); None when we do
    not know the model. For side calls such as titles, whose answer is a few words."""
    accepted = reasoning_efforts(model)
    if accepted is None:
        return None
    return next((effort for effort in ("none", "minimal", "low") if effort in accepted), None)
