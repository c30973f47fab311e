"""Throughput against the number of workers, with the model as the bottleneck.

Each worker runs at most `TURNS_PER_WORKER` turns at once and the model answers slowly, so a
worker's capacity is fixed and the CPU stays far from full: turns per second should grow with the
workers (1, then 4) until the queue is empty.
"""

from __future__ import annotations

from typing import Any

from bench.scenarios.common import Context, Figure, ScenarioResult, at_least, load, reported
from bench.system import SystemSpec, started_system
from services.loadgen.run import LoadResult

TURNS_PER_WORKER = 4
FIRST_TOKEN_MS = 500
TOKENS_PER_S = 20
WORKER_COUNTS = (1, 4)


def run(ctx: Context) -> ScenarioResult:
    users = 8 if ctx.quick else 32
    messages = 1 if ctx.quick else 2
    runs: dict[str, Any] = {}
    for workers in WORKER_COUNTS:
        spec = SystemSpec(
            workers=workers,
            first_token_ms=FIRST_TOKEN_MS,
            tokens_per_s=TOKENS_PER_S,
            worker_max_turns=TURNS_PER_WORKER,
        )
        with started_system(spec, ctx.backends) as system:
            runs[f"workers_{workers}"] = load(
                system, f"{workers} worker(s)", FIRST_TOKEN_MS, users=users, messages=messages
            )
    one: LoadResult = runs[f"workers_{WORKER_COUNTS[0]}"]
    four: LoadResult = runs[f"workers_{WORKER_COUNTS[-1]}"]
    # Steady-state rates: a closed loop's first and last seconds run below capacity.
    rate_1, rate_4 = one.steady_turns_per_s, four.steady_turns_per_s
    ratio = round(rate_4 / rate_1, 2) if rate_1 else None
    figures: list[Figure] = [
        reported("turns/s, 1 worker (steady)", rate_1, "turns/s"),
        reported("turns/s, 4 workers (steady)", rate_4, "turns/s"),
        at_least("turns/s 4 workers vs 1", ratio, 3.5, "x"),
        reported("errors", float(sum(r.turns - r.ok_turns for r in (one, four))), "turns"),
    ]
    return ScenarioResult(
        scenario="scale_out", description=__doc__ or "", figures=figures, runs=runs
    )
