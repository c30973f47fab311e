"""Driving simulated users: a closed loop (N users, M messages each, back to back) or an open loop
(new conversations arriving at a fixed rate, however slowly the server answers)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import msgspec

from services.chatkit_client.requests import build_request
from services.loadgen.http import Connection
from services.loadgen.process_stats import ProcessUsage, measuring
from services.loadgen.stats import Percentiles, percentile, percentiles
from services.loadgen.turn import TurnSample, run_turn

TEXT = "please repeat after me: the quick brown fox jumps over the lazy dog, message {n}"
"""What users say. The emulator echoes a message it has no rule for, so every answer is a few
dozen tokens long and each turn makes one model call (plus the title of a new thread)."""


@dataclass(frozen=True)
class LoadOptions:
    url: str
    token_for: Callable[[str], str]
    """A token for a user id."""
    users: int = 10
    """Closed loop: users talking at once."""
    messages: int = 3
    """Closed loop: turns per user (the first creates the thread)."""
    mode: Literal["closed", "open"] = "closed"
    rate: float = 10.0
    """Open loop: new conversations (one turn each) per second."""
    duration_s: float = 30.0
    """Open loop: how long arrivals go on."""
    model_first_token_ms: float = 0.0
    """The emulator's configured time to first token, subtracted for the added latency."""
    text: str = TEXT
    """What each user says (`{n}`: the message's number)."""
    ramp_s: float = 0.0
    """Closed loop: users start evenly spread over this long (not all in the same instant)."""
    label: str = "load"
    user_prefix: str = "load-user"
    timeout_s: float = 300.0
    pids: Mapping[str, int] | None = None
    """Processes whose CPU and memory to report, by name."""
    progress: bool = True
    parse_deltas: bool = True
    """Parse every text delta (off: recognise them by their first bytes; see `run_turn`)."""


class LoadResult(msgspec.Struct):
    label: str
    mode: str
    users: int
    messages: int
    rate: float | None
    wall_s: float
    turns: int
    ok_turns: int
    errors: dict[str, int]
    ttft_ms: Percentiles | None
    added_ttft_ms: Percentiles | None
    """Our time to first token minus the model's configured one."""
    turn_ms: Percentiles | None
    gap_ms: Percentiles | None
    events: int
    sse_bytes: int
    events_per_s: float
    turns_per_s: float
    steady_turns_per_s: float
    """Turns completed in the middle 60% of the run, per second: throughput without the start
    (nothing has finished yet) and the tail (the last turns finish alone)."""
    processes: dict[str, ProcessUsage]
    cpu_ms_per_turn: dict[str, float]
    """Each measured process's CPU time divided by the completed turns."""
    peak_open_streams: int
    """The most streams open at once."""
    mean_open_streams: float
    """Streams open on average over the run (turn time summed over the wall time)."""
    turn_ids: list[str]
    """The gateway's ids of the turns (for looking them up afterwards)."""


async def run_load(options: LoadOptions) -> LoadResult:
    samples: list[TurnSample] = []
    # The load generator's own CPU is reported too: it shares the machine with what it measures.
    pids = {**options.pids, "load generator": os.getpid()} if options.pids else {}
    async with measuring(pids) as usage:
        zero = time.perf_counter()
        progress = asyncio.create_task(_show_progress(options, samples, zero))
        try:
            if options.mode == "closed":
                await _closed_loop(options, samples, zero)
            else:
                await _open_loop(options, samples, zero)
        finally:
            progress.cancel()
        wall_s = time.perf_counter() - zero
    return _summarise(options, samples, wall_s, usage)


async def _conversation(
    options: LoadOptions,
    user: str,
    turns: int,
    samples: list[TurnSample],
    zero: float,
    start_in_s: float = 0.0,
) -> None:
    token = options.token_for(user)
    if start_in_s > 0:
        await asyncio.sleep(start_in_s)
    thread_id: str | None = None
    connection = Connection(options.url)  # the user's own: their turns follow each other
    try:
        for n in range(turns):
            request = build_request(options.text.format(n=n), thread_id)
            sample = await run_turn(
                connection, token, request, zero,
                timeout_s=options.timeout_s, parse_deltas=options.parse_deltas,
            )  # fmt: skip
            samples.append(sample)
            thread_id = thread_id or sample.thread_id
            if thread_id is None:  # the thread was never created: nothing to continue
                return
    finally:
        await connection.close()


async def _closed_loop(options: LoadOptions, samples: list[TurnSample], zero: float) -> None:
    await asyncio.gather(
        *(
            _conversation(
                options,
                f"{options.user_prefix}-{n}",
                options.messages,
                samples,
                zero,
                start_in_s=options.ramp_s * n / options.users,
            )
            for n in range(options.users)
        )
    )


async def _open_loop(options: LoadOptions, samples: list[TurnSample], zero: float) -> None:
    # Evenly spaced arrivals: each is a new user's first message, sent on time whether or not
    # earlier answers have finished (that is what makes the loop open).
    arrivals = int(options.duration_s * options.rate)
    running = set()
    for n in range(arrivals):
        delay = zero + n / options.rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(
            _conversation(options, f"{options.user_prefix}-{n}", 1, samples, zero)
        )
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)


async def _show_progress(options: LoadOptions, samples: list[TurnSample], zero: float) -> None:
    if not options.progress:
        return
    total = options.users * options.messages if options.mode == "closed" else None
    while True:
        await asyncio.sleep(1)
        done = len(samples)
        errors = sum(1 for s in samples if s.error)
        ttfts = sorted(s.ttft_ms for s in samples[-200:] if s.ttft_ms is not None)
        p50 = f"{percentile(ttfts, 0.5):.0f} ms" if ttfts else "-"
        of = f"/{total}" if total else ""
        sys.stderr.write(
            f"\r  {options.label}: {done}{of} turns, {errors} errors, "
            f"first token p50 {p50}, {time.perf_counter() - zero:.0f} s   "
        )
        sys.stderr.flush()


def _summarise(
    options: LoadOptions,
    samples: list[TurnSample],
    wall_s: float,
    usage: Mapping[str, ProcessUsage],
) -> LoadResult:
    if options.progress:
        sys.stderr.write("\n")
    ok = [s for s in samples if s.error is None]
    ttfts = [s.ttft_ms for s in ok if s.ttft_ms is not None]
    events = sum(s.events for s in samples)
    return LoadResult(
        label=options.label,
        mode=options.mode,
        users=options.users if options.mode == "closed" else int(options.duration_s * options.rate),
        messages=options.messages if options.mode == "closed" else 1,
        rate=options.rate if options.mode == "open" else None,
        wall_s=round(wall_s, 2),
        turns=len(samples),
        ok_turns=len(ok),
        errors=dict(Counter(s.error for s in samples if s.error)),
        ttft_ms=percentiles(ttfts),
        added_ttft_ms=percentiles([t - options.model_first_token_ms for t in ttfts]),
        turn_ms=percentiles([s.turn_ms for s in ok]),
        gap_ms=percentiles([g for s in ok for g in s.gaps_ms[1:]]),
        events=events,
        sse_bytes=sum(s.sse_bytes for s in samples),
        events_per_s=round(events / wall_s, 1),
        turns_per_s=round(len(ok) / wall_s, 2),
        steady_turns_per_s=_steady_rate(ok, wall_s),
        processes=dict(usage),
        cpu_ms_per_turn={
            name: round(u.cpu_s * 1000 / max(1, len(ok)), 2) for name, u in usage.items()
        },
        peak_open_streams=_peak_open(samples),
        mean_open_streams=round(sum(s.turn_ms for s in samples) / 1000 / wall_s, 1),
        turn_ids=[s.turn_id for s in samples if s.turn_id],
    )


def _steady_rate(ok: list[TurnSample], wall_s: float) -> float:
    start, end = 0.2 * wall_s, 0.8 * wall_s
    done = sum(1 for s in ok if start <= s.started_s + s.turn_ms / 1000 < end)
    return round(done / (end - start), 2)


def _peak_open(samples: list[TurnSample]) -> int:
    changes = sorted(
        [(s.started_s, 1) for s in samples]
        + [(s.started_s + s.turn_ms / 1000, -1) for s in samples]
    )
    open_now = peak = 0
    for _, change in changes:
        open_now += change
        peak = max(peak, open_now)
    return peak
