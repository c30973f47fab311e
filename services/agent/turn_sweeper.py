"""Closing the records of turns whose worker died while no gateway was watching.

A gateway relaying a turn marks it failed when the worker goes silent. With `ON_DISCONNECT=continue`
nobody may be relaying it, so every worker also sweeps now and then: a turn recorded as running
whose event log has been silent for longer than the liveness limit has lost its worker. (A Redis
Stream entry id starts with its time in milliseconds, so the last entry tells when the turn last
spoke, heartbeats included.)
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.records import WORKER_LOST, TurnRecords

logger = logging.getLogger(__name__)

SWEEP_EVERY_S = 30.0


async def sweep_once(redis: Redis, records: TurnRecords, *, silence_limit_s: float) -> list[str]:
    """Mark failed the running turns silent for longer than `silence_limit_s`; their ids."""
    failed = []
    for turn_id in await records.running_since(silence_limit_s):
        last: list[tuple[bytes, object]] = await redis.xrevrange(keys.turn_events(turn_id), count=1)
        last_ms = int(last[0][0].split(b"-")[0]) if last else 0
        if time.time() * 1000 - last_ms > silence_limit_s * 1000:
            await records.failed(turn_id, WORKER_LOST)
            failed.append(turn_id)
    if failed:
        logger.warning("marked %d turns with dead workers as failed: %s", len(failed), failed)
    return failed


async def sweep_forever(redis: Redis, records: TurnRecords, *, silence_limit_s: float) -> None:
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            await sweep_once(redis, records, silence_limit_s=silence_limit_s)
        except Exception as exc:  # Redis or Postgres down: try again next time
            logger.warning("turn sweep skipped: %s", exc)
