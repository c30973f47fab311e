"""What every scenario gets, and what it gives back: figures set against their targets."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from bench.system import Backends, RunningSystem
from services.loadgen.model_probe import model_first_token_ms
from services.loadgen.run import LoadOptions, LoadResult, run_load


class Figure(msgspec.Struct):
    name: str
    value: float | None
    unit: str
    target: str
    """The target in words, e.g. "<= 10"."""
    met: bool | None
    """None: reported, no target."""
    baseline: float | None = None
    """The single-process baseline's figure, where there is one."""


class ScenarioResult(msgspec.Struct):
    scenario: str
    description: str
    figures: list[Figure]
    runs: dict[str, Any]
    """Every load run's full result (and other measurements), by name."""


@dataclass(frozen=True)
class Context:
    backends: Backends
    results_dir: Path
    quick: bool
    """Small loads: a smoke test of the harness, not figures to report."""


def at_most(name: str, value: float | None, limit: float, unit: str, **extra: Any) -> Figure:
    met = None if value is None else value <= limit
    return Figure(name, value, unit, f"<= {limit:g}", met, **extra)


def at_least(name: str, value: float | None, limit: float, unit: str, **extra: Any) -> Figure:
    met = None if value is None else value >= limit
    return Figure(name, value, unit, f">= {limit:g}", met, **extra)


def reported(name: str, value: float | None, unit: str, **extra: Any) -> Figure:
    return Figure(name, value, unit, "-", None, **extra)


def load(
    system: RunningSystem, label: str, model_first_token_ms: float, **options: Any
) -> LoadResult:
    """A load run against `system`, measuring its app processes and the stores."""
    options.setdefault("pids", system.pids)
    return asyncio.run(
        run_load(
            LoadOptions(
                url=system.url,
                token_for=system.token,
                model_first_token_ms=model_first_token_ms,
                label=label,
                **options,
            )
        )
    )


def probe_model(system: RunningSystem) -> float:
    """The emulator's own first-token time (p50, ms), straight at its endpoint."""
    measured = asyncio.run(model_first_token_ms(system.emulator_url, requests=10))
    return measured.p50 if measured else 0.0


def app_cpu_ms_per_turn(result: LoadResult) -> float:
    """CPU per completed turn of the processes that are TaskChat (gateway, workers or single)."""
    others = ("emulator", "postgres", "redis", "load generator")
    return round(sum(v for k, v in result.cpu_ms_per_turn.items() if k not in others), 2)


def save(result: ScenarioResult, results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"{result.scenario}.json"
    path.write_bytes(msgspec.json.format(msgspec.json.encode(result)) + b"\n")
    return path
