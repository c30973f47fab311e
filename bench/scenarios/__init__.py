"""The scenarios `python -m bench` runs, by name, in order."""

from __future__ import annotations

from collections.abc import Callable

from bench.scenarios import cost_model, scale_out, split_vs_single
from bench.scenarios.common import Context, ScenarioResult

SCENARIOS: dict[str, Callable[[Context], ScenarioResult]] = {
    "split_vs_single": split_vs_single.run,
    "scale_out": scale_out.run,
    "cost_model": cost_model.run,
}
