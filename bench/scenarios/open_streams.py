"""One gateway holding 1,000 streams open at once.

1,000 users each send a message to a model that takes 20 seconds to its first token, starting
over 10 seconds: for about 10 seconds every stream is open and waiting. Two workers run all
the turns at once (500 each). What is measured is the gateway: its peak memory, and that every
stream ends with its whole answer.
"""

from __future__ import annotations

from typing import Any

from bench.scenarios.common import Context, Figure, ScenarioResult, at_least, at_most, load
from bench.system import SystemSpec, started_system
from services.loadgen.run import LoadResult

STREAMS = 1000
FIRST_TOKEN_MS = 20_000


def run(ctx: Context) -> ScenarioResult:
    streams = 100 if ctx.quick else STREAMS
    spec = SystemSpec(
        workers=2,
        first_token_ms=FIRST_TOKEN_MS // (10 if ctx.quick else 1),
        worker_max_turns=streams // 2 + 10,
        env={"DATABASE_POOL_MAX": "25", "TURN_START_TIMEOUT_S": "60"},
    )
    runs: dict[str, Any] = {}
    with started_system(spec, ctx.backends) as system:
        load(system, "warm-up", 0, users=4, messages=1, progress=False, pids=None)
        result: LoadResult = load(
            system,
            f"{streams} open streams",
            spec.first_token_ms,
            users=streams,
            messages=1,
            ramp_s=streams / 100,
            pids={"gateway": system.pids["gateway"]},
        )
        runs["open_streams"] = result
    gateway = result.processes["gateway"]
    figures: list[Figure] = [
        at_least("streams open at once", float(result.peak_open_streams), streams, "streams"),
        at_most("gateway peak RSS", gateway.peak_rss_mb, 300, "MB"),
        at_most("failed streams", float(result.turns - result.ok_turns), 0, "streams"),
    ]
    return ScenarioResult(
        scenario="open_streams", description=__doc__ or "", figures=figures, runs=runs
    )
