"""The split (gateway, queue, two workers) against the single-process anchor, same machine.

The anchor (`bench/anchor.py`) is what a user would run instead: OpenAI's ChatKit samples' shape,
chatkit and the Agents SDK in one process with an in-memory store. Issue 19's targets (turns/s and
CPU per turn at 200 streams) are set against it.

Two model speeds. `paced`: a model like Gemini Flash (half a second to the first token, then 100
tokens a second in chunks of 5 words; answers of about 260 tokens, so a turn streams for about 3
seconds). New conversations arrive evenly (an open loop) at the rate that keeps 10, 50 and then
100 streams open at once (arrivals a second x seconds a turn): what the split adds to the first
token, and the CPU each turn costs. (A closed loop of N users here would send every user's next
message in the same instant, as the answers all take equally long: bursts, not a steady load.)
`saturated`: a model with no delay and short answers (a few dozen words, a word a chunk), a closed
loop of 100 and then 200 users each sending 5 messages back to back: the most turns a second each
arrangement serves on this machine, the server CPU each turn costs, and first-token and
whole-turn latency, at both levels.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from redis.asyncio import Redis

from bench.scenarios.common import (
    Context,
    Figure,
    ScenarioResult,
    app_cpu_ms_per_turn,
    at_least,
    at_most,
    load,
    probe_model,
    reported,
)
from bench.system import Arrangement, RunningSystem, SystemSpec, started_system
from services.loadgen.run import LoadResult
from services.loadgen.stats import percentiles
from shared.turns import keys

FIRST_TOKEN_MS = 500
TOKENS_PER_S = 100
TOKENS_PER_CHUNK = 5
LONG_TEXT = "please repeat after me: " + " ".join(f"word{n}" for n in range(250)) + " message {n}"
TURN_S = 3.1
"""How long a paced turn streams (0.5 s to the first token, 260 tokens at 100 a second)."""
ARRIVALS_S = 20.0
CONCURRENCY = (10, 50, 100)
TARGET_CONCURRENCY = 100
SATURATED_STREAMS = (100, 200)
"""Closed-loop users of the saturated runs (streams open at once)."""
SATURATED_RATIO_TARGET = 1.5
"""The split's turns/s against one process's, at the top saturated level (issue 19)."""


def run(ctx: Context) -> ScenarioResult:
    levels = (5, 10) if ctx.quick else CONCURRENCY
    saturated = (5, 10) if ctx.quick else SATURATED_STREAMS
    top = levels[-1]
    runs: dict[str, Any] = {}
    arrangements: tuple[Arrangement, ...] = ("split", "anchor")
    for arrangement in arrangements:
        spec = SystemSpec(
            workers=2,
            arrangement=arrangement,
            first_token_ms=FIRST_TOKEN_MS,
            tokens_per_s=TOKENS_PER_S,
            tokens_per_chunk=TOKENS_PER_CHUNK,
        )
        with started_system(spec, ctx.backends) as system:
            # "Added" latency is ours minus the model's own, as measured at its endpoint.
            model_ms = runs[f"{arrangement}_model_first_token_ms"] = probe_model(system)
            _warm_up(system)
            for users in levels:
                runs[f"{arrangement}_paced_{users}"] = load(
                    system,
                    f"{arrangement}, {users} streams",
                    model_ms,
                    mode="open",
                    rate=users / TURN_S,
                    duration_s=5.0 if ctx.quick else ARRIVALS_S,
                    text=LONG_TEXT,
                    user_prefix=f"paced-{users}",
                    parse_deltas=False,  # the load generator shares the machine: keep it light
                )
                if arrangement == "split":
                    pickups = asyncio.run(_queue_pickups_ms(system, runs[f"split_paced_{users}"]))
                    runs[f"queue_pickup_ms_{users}"] = percentiles(pickups)
        with started_system(SystemSpec(workers=2, arrangement=arrangement), ctx.backends) as system:
            _warm_up(system)
            for users in saturated:
                runs[f"{arrangement}_saturated_{users}"] = load(
                    system,
                    f"{arrangement}, saturated, {users} streams",
                    0,
                    users=users,
                    messages=2 if ctx.quick else 5,
                    ramp_s=1.0,
                    user_prefix=f"saturated-{users}",
                    parse_deltas=False,
                )
    return ScenarioResult(
        scenario="split_vs_single",
        description=__doc__ or "",
        figures=_figures(runs, top, saturated),
        runs=runs,
    )


def _warm_up(system: RunningSystem) -> None:
    """Connections, caches and code paths warm before anything is measured."""
    load(system, "warm-up", 0, users=10, messages=2, progress=False, pids=None)


async def _queue_pickups_ms(system: RunningSystem, result: LoadResult) -> list[float]:
    """Enqueue to worker start of each turn of `result`: from the time the gateway queued it
    (`turns.queued_at`, the gateway's clock) to the id of the `started` entry the worker logged
    first thing (a Redis Stream id is Redis's clock in ms; one machine, one clock)."""
    conn = await asyncpg.connect(system.database_url)
    try:
        rows = await conn.fetch(
            "SELECT turn_id, extract(epoch FROM queued_at) * 1000 AS queued_ms FROM turns"
            " WHERE turn_id = ANY($1::text[])",
            result.turn_ids,
        )
    finally:
        await conn.close()
    client = Redis.from_url(system.redis_url)
    try:
        pickups = []
        for row in rows:
            first = await client.xrange(keys.turn_events(row["turn_id"]), count=1)
            if first:
                started_ms = int(first[0][0].split(b"-")[0])
                pickups.append(started_ms - float(row["queued_ms"]))
        return pickups
    finally:
        await client.aclose()


def _figures(runs: dict[str, Any], top: int, saturated: tuple[int, ...]) -> list[Figure]:
    split: LoadResult = runs[f"split_paced_{top}"]
    anchor: LoadResult = runs[f"anchor_paced_{top}"]
    pickups = {
        int(name.rsplit("_", 1)[1]): value
        for name, value in runs.items()
        if name.startswith("queue_pickup_ms_") and value is not None
    }
    lower = sorted(
        int(name.rsplit("_", 1)[1])
        for name in runs
        if name.startswith("split_paced_") and int(name.rsplit("_", 1)[1]) < top
    )
    return [
        *(reported(f"added first token p{q}, {users} streams",
                   _p(runs[f"split_paced_{users}"], "added_ttft_ms", f"p{q}"), "ms",
                   baseline=_p(runs[f"anchor_paced_{users}"], "added_ttft_ms", f"p{q}"))
          for users in lower for q in (50, 99)),
        at_most(f"added first token p50, {top} streams", _p(split, "added_ttft_ms", "p50"), 10,
                "ms", baseline=_p(anchor, "added_ttft_ms", "p50")),
        at_most(f"added first token p99, {top} streams", _p(split, "added_ttft_ms", "p99"), 50,
                "ms", baseline=_p(anchor, "added_ttft_ms", "p99")),
        reported(f"whole turn p50, {top} streams, paced model", _p(split, "turn_ms", "p50"), "ms",
                 baseline=_p(anchor, "turn_ms", "p50")),
        at_most("server CPU per turn, paced", app_cpu_ms_per_turn(split),
                app_cpu_ms_per_turn(anchor), "ms", baseline=app_cpu_ms_per_turn(anchor)),
        *(figure for users in saturated
          for figure in _saturated_figures(runs, users, top_level=users == saturated[-1])),
        *(at_most(f"queue pickup p99, {users} streams", pickup.p99, 20, "ms")
          for users, pickup in sorted(pickups.items())),
        *(reported(f"queue pickup p50, {users} streams", pickup.p50, "ms")
          for users, pickup in sorted(pickups.items())),
        reported("errors", float(sum(r.turns - r.ok_turns for r in _loads(runs))), "turns"),
    ]  # fmt: skip


def _saturated_figures(runs: dict[str, Any], users: int, *, top_level: bool) -> list[Figure]:
    """Split against anchor at one saturated level: throughput, CPU, latency."""
    split: LoadResult = runs[f"split_saturated_{users}"]
    anchor: LoadResult = runs[f"anchor_saturated_{users}"]
    rate, anchor_rate = split.steady_turns_per_s, anchor.steady_turns_per_s
    ratio = round(rate / anchor_rate, 2) if anchor_rate else None
    name = f"saturated, {users} streams"
    cpu, anchor_cpu = app_cpu_ms_per_turn(split), app_cpu_ms_per_turn(anchor)
    return [
        at_least(f"turns/s vs anchor, {name}", ratio,
                 SATURATED_RATIO_TARGET if top_level else 1.0, "x"),
        reported(f"turns/s (steady), {name}", rate, "turns/s", baseline=anchor_rate),
        at_most(f"server CPU per turn, {name}", cpu, anchor_cpu, "ms", baseline=anchor_cpu),
        reported(f"events per turn, {name}", round(split.events / split.ok_turns, 1)
                 if split.ok_turns else None, "events",
                 baseline=round(anchor.events / anchor.ok_turns, 1) if anchor.ok_turns else None),
        *(reported(f"{what} {q}, {name}", _p(split, field, q), "ms",
                   baseline=_p(anchor, field, q))
          for what, field in (("first token", "ttft_ms"), ("whole turn", "turn_ms"))
          for q in ("p50", "p99")),
        at_most(f"whole turn p50 vs anchor, {name}",
                _ratio(_p(split, "turn_ms", "p50"), _p(anchor, "turn_ms", "p50")), 1.1, "x"),
    ]  # fmt: skip


def _p(result: LoadResult, field: str, q: str) -> float | None:
    values = getattr(result, field)
    return None if values is None else float(getattr(values, q))


def _loads(runs: dict[str, Any]) -> list[LoadResult]:
    return [r for r in runs.values() if isinstance(r, LoadResult)]


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 2)
