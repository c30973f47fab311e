"""`taskchat status`: the queue and the workers right now (queue depth, live workers, running
turns, the oldest running turn), read from Redis in a handful of calls."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import msgspec

from services.cli.args import Subparsers
from shared.workers.registry import WorkerStatus

if TYPE_CHECKING:
    from redis.asyncio import Redis


class OldestTurn(msgspec.Struct, frozen=True, kw_only=True):
    turn_id: str
    worker_id: str
    running_s: float


class ClusterStatus(msgspec.Struct, frozen=True, kw_only=True):
    queue_depth: int
    oldest_queued_s: float | None
    live_workers: int
    turns_running: int
    capacity: int
    oldest_running: OldestTurn | None
    workers: list[WorkerStatus]


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "status", help="queue depth, live workers, running turns and the oldest running turn"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.set_defaults(handler=run)


async def collect_status(redis: Redis, liveness_ttl_s: float) -> ClusterStatus:
    from shared.turns.queue import TurnQueue
    from shared.workers.registry import WorkerRegistry

    queue = TurnQueue(redis, turn_timeout_s=0)  # only read here, never enqueued to
    now = time.time()
    workers = await WorkerRegistry(redis, liveness_ttl_s).live()
    oldest_queued = await queue.oldest_enqueued_at_s()
    running = [w for w in workers if w.oldest_turn_id and w.oldest_turn_started_at]
    oldest = min(running, key=lambda w: w.oldest_turn_started_at or now, default=None)
    return ClusterStatus(
        queue_depth=await queue.depth(),
        oldest_queued_s=None if oldest_queued is None else max(0.0, now - oldest_queued),
        live_workers=len(workers),
        turns_running=sum(w.running_turns for w in workers),
        capacity=sum(w.max_turns for w in workers),
        oldest_running=(
            OldestTurn(
                turn_id=oldest.oldest_turn_id or "",
                worker_id=oldest.worker_id,
                running_s=max(0.0, now - (oldest.oldest_turn_started_at or now)),
            )
            if oldest is not None
            else None
        ),
        workers=workers,
    )


def render_status(status: ClusterStatus, now: float) -> str:
    queued = f"{status.queue_depth} turns waiting"
    if status.oldest_queued_s is not None:
        queued += f" (oldest for {status.oldest_queued_s:.1f} s)"
    lines = [
        f"queue depth:     {queued}",
        f"live workers:    {status.live_workers}",
        f"turns running:   {status.turns_running} of {status.capacity} slots",
    ]
    if status.oldest_running is None:
        lines.append("oldest running:  none")
    else:
        oldest = status.oldest_running
        lines.append(
            f"oldest running:  turn {oldest.turn_id} on {oldest.worker_id},"
            f" for {oldest.running_s:.1f} s"
        )
    if status.workers:
        lines.append("")
        lines.append(f"{'WORKER':<40} {'RUNNING':>9} {'UP':>9} {'LAST BEAT':>10}")
        for w in status.workers:
            lines.append(
                f"{w.worker_id:<40} {f'{w.running_turns}/{w.max_turns}':>9}"
                f" {now - w.started_at:>8.0f}s {now - w.beat_at:>9.1f}s"
            )
    else:
        lines.append("No live worker: queued turns wait (and fail after TURN_START_TIMEOUT_S).")
    return "\n".join(lines)


async def read_status(environ: Mapping[str, str]) -> ClusterStatus:
    from shared.redis_connection import connect_redis
    from shared.settings import Settings

    settings = Settings.from_env(environ, needs_model=False)
    redis = await connect_redis(settings.redis, attempts=1)  # an operator asked: answer now
    try:
        return await collect_status(redis, settings.worker.liveness_ttl_s)
    finally:
        await redis.aclose()


def run(args: argparse.Namespace) -> int:
    from redis.exceptions import RedisError

    from shared.settings import SettingsError

    try:
        status = asyncio.run(read_status(os.environ))
    except SettingsError as exc:
        print(f"taskchat status: {exc}", file=sys.stderr)
        return 2
    except (OSError, RedisError) as exc:
        print(f"taskchat status: cannot reach Redis: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(msgspec.to_builtins(status), indent=2))
    else:
        print(render_status(status, time.time()))
    return 0
