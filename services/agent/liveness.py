"""The worker's own heartbeat in the registry of live workers (see `shared.workers.registry`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time

from redis.exceptions import RedisError

from services.agent.running_turns import RunningTurns
from shared.db.pool import DbPool
from shared.workers.registry import WorkerRegistry, WorkerStatus

log = logging.getLogger(__name__)


async def beat_forever(
    registry: WorkerRegistry,
    worker_id: str,
    running: RunningTurns,
    *,
    max_turns: int,
    interval_s: float,
    pool: DbPool | None = None,
) -> None:
    """Announce this worker every `interval_s` until cancelled, then withdraw it.

    A failed beat (Redis restarting) is logged and retried at the next interval: the worker keeps
    running its turns, and reappears in the registry as soon as Redis answers again.
    """
    started_at = time.time()
    host, pid = socket.gethostname(), os.getpid()
    try:
        while True:
            oldest = running.oldest()
            status = WorkerStatus(
                worker_id=worker_id,
                host=host,
                pid=pid,
                started_at=started_at,
                running_turns=len(running),
                max_turns=max_turns,
                beat_at=time.time(),
                oldest_turn_id=oldest[0] if oldest else None,
                oldest_turn_started_at=oldest[1] if oldest else None,
                db_connections=pool.get_size() if pool else 0,
                db_pool_max=pool.get_max_size() if pool else 0,
            )
            try:
                await registry.beat(status)
            except RedisError as exc:
                log.warning("worker heartbeat failed (%s); retrying", exc)
            await asyncio.sleep(interval_s)
    finally:
        # A worker that cannot withdraw (Redis down) expires from the registry on its own.
        with contextlib.suppress(RedisError, asyncio.CancelledError):
            await asyncio.shield(registry.remove(worker_id))
