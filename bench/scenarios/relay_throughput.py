"""How many events a second one gateway process relays.

A stand-in worker (`bench/synthetic_worker.py`) answers each turn with 3,000 text deltas as fast
as Redis takes them, through the real event log; 100 users each read one answer. The load
generator recognises deltas by their first bytes instead of parsing them all, so it keeps up.
Events per second are counted at the clients, over the whole run.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import redis

from bench.scenarios.common import Context, Figure, ScenarioResult, at_least, load, reported
from bench.system import SystemSpec, started_system
from services.loadgen.run import LoadResult
from shared.workers.registry import WORKERS

DELTAS_PER_ANSWER = 3000
USERS = 100


def run(ctx: Context) -> ScenarioResult:
    users, deltas = (20, 500) if ctx.quick else (USERS, DELTAS_PER_ANSWER)
    runs: dict[str, Any] = {}
    with started_system(SystemSpec(workers=0), ctx.backends) as system:
        producer = subprocess.Popen(
            [sys.executable, "-m", "bench.synthetic_worker", system.redis_url,
             "--events", str(deltas)],
        )  # fmt: skip
        try:
            _wait_registered(system.redis_url)
            load(system, "warm-up", 0, users=4, messages=1, progress=False, pids=None)
            result: LoadResult = load(
                system,
                "relay",
                0,
                users=users,
                messages=1,
                ramp_s=0.5,
                parse_deltas=False,
                pids={"gateway": system.pids["gateway"], "synthetic worker": producer.pid,
                      "redis": system.pids["redis"]},
            )  # fmt: skip
            runs["relay"] = result
        finally:
            producer.terminate()
            producer.wait(10)
    gateway_cpu = result.processes["gateway"].cpu_s
    figures: list[Figure] = [
        at_least("events relayed per second", result.events_per_s, 20_000, "events/s"),
        reported("gateway CPU per 1,000 events", round(gateway_cpu * 1e6 / result.events, 1),
                 "ms"),
        reported("failed streams", float(result.turns - result.ok_turns), "streams"),
    ]  # fmt: skip
    return ScenarioResult(
        scenario="relay_throughput", description=__doc__ or "", figures=figures, runs=runs
    )


def _wait_registered(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + 30
    while not client.zcard(WORKERS):
        if time.monotonic() > deadline:
            raise RuntimeError("the synthetic worker did not register")
        time.sleep(0.1)
