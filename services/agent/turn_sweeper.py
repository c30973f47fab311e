"""Closing the records of turns whose worker died while no gateway was watching.

A gateway relaying a turn marks it failed when the worker goes silent. With `ON_DISCONNECT=continue`
nobody may be relaying it, so every worker also sweeps now and then: a turn recorded as running
whose event log has been silent for longer than the liveness limit, and whose worker no longer
beats (or which has been silent longer than a turn may last), has lost its worker. (A Redis Stream
entry id starts with its time in milliseconds, so the last entry tells when the turn last spoke,
heartbeats included; the first, `started`, names its worker.)
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.event_log import entry_events
from shared.turns.records import WORKER_LOST, TurnRecords
from shared.workers.registry import WorkerRegistry

logger = logging.getLogger(__name__)

SWEEP_EVERY_S = 30.0


async def sweep_once(
    redis: Redis,
    records: TurnRecords,
    workers: WorkerRegistry,
    *,
    silence_limit_s: float,
    busy_limit_s: float,
) -> list[str]:
    """Mark failed the running turns silent for longer than `silence_limit_s` whose worker is
    gone, or silent for longer than `busy_limit_s` whatever their worker; their ids."""
    failed = []
    for turn_id in await records.running_since(silence_limit_s):
        log = keys.turn_events(turn_id)
        last: list[tuple[bytes, object]] = await redis.xrevrange(log, count=1)
        silent_s = time.time() - (int(last[0][0].split(b"-")[0]) / 1000 if last else 0)
        if silent_s <= silence_limit_s:
            continue
        if silent_s <= busy_limit_s and await _worker_lives(redis, workers, log):
            continue  # slow, not dead
        await records.failed(turn_id, WORKER_LOST)
        failed.append(turn_id)
    if failed:
        logger.warning("marked %d turns with dead workers as failed: %s", len(failed), failed)
    return failed


async def _worker_lives(redis: Redis, workers: WorkerRegistry, log: str) -> bool:
    first: list[tuple[bytes, dict[bytes, bytes]]] = await redis.xrange(log, count=1)
    if not first:
        return False
    started = entry_events(first[0][1])[0]
    return (
        started.kind == "started"
        and bool(started.data)
        and (await workers.is_live(started.data.decode()))
    )


async def sweep_forever(
    redis: Redis,
    records: TurnRecords,
    workers: WorkerRegistry,
    *,
    silence_limit_s: float,
    busy_limit_s: float,
) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            await sweep_once(
                redis,
                records,
                workers,
                silence_limit_s=silence_limit_s,
                busy_limit_s=busy_limit_s,
            )
        except Exception as exc:  # Redis or Postgres down: try again next time
            logger.warning("turn sweep skipped: %s", exc)
