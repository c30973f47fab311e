"""Live agent workers, as heartbeats in Redis.

Each worker writes its status every few seconds: a sorted set scores worker ids by their last beat
(so "who is alive" is one range query) and a hash per worker holds its details, expiring on its own
if the worker dies. A worker whose beat is older than `ttl_s` counts as dead: gateways refuse new
turns when none is alive, and operators see the list in `taskchat status` and the metrics.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.client import Pipeline as SyncPipeline

from shared.turns.keys import PREFIX

WORKERS = f"{PREFIX}:workers"
"""Sorted set: worker id -> time of its last heartbeat (epoch seconds), of the workers taking
turns (the admission's "is a worker alive")."""
DRAINING_WORKERS = f"{PREFIX}:workers:draining"
"""Sorted set like `WORKERS`, of the workers that stopped taking turns (SIGTERM) and finish the
ones they run: alive for the turns they hold, not counted for new ones."""


def worker_status_key(worker_id: str) -> str:
    return f"{PREFIX}:worker:{worker_id}"


class WorkerStatus(msgspec.Struct, frozen=True):
    worker_id: str
    host: str
    pid: int
    started_at: float
    running_turns: int
    max_turns: int
    beat_at: float
    oldest_turn_id: str | None = None
    """The turn this worker has been running longest (for `taskchat status`)."""
    oldest_turn_started_at: float | None = None
    db_connections: int = 0
    """PostgreSQL connections this worker's pool holds open now (for the connection budget)."""
    db_pool_max: int = 0
    """The most its pool may open (`DATABASE_POOL_MAX`)."""


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


def queue_beat(
    pipe: SyncPipeline | Pipeline, status: WorkerStatus, ttl_s: float, *, draining: bool = False
) -> None:
    """Queue a worker's beat on a pipeline, sync (the heartbeat thread's) or async; a draining
    worker beats in `DRAINING_WORKERS`, and no longer in `WORKERS`."""
    if draining:
        pipe.zrem(WORKERS, status.worker_id)
    pipe.zadd(DRAINING_WORKERS if draining else WORKERS, {status.worker_id: status.beat_at})
    pipe.set(worker_status_key(status.worker_id), msgspec.json.encode(status), px=int(ttl_s * 1000))


def queue_removal(pipe: SyncPipeline | Pipeline, worker_id: str) -> None:
    """Queue a worker's withdrawal from the registry on a pipeline, sync or async."""
    pipe.zrem(WORKERS, worker_id)
    pipe.zrem(DRAINING_WORKERS, worker_id)
    pipe.delete(worker_status_key(worker_id))


@dataclass(frozen=True, slots=True)
class WorkerRegistry:
    redis: Redis
    ttl_s: float
    """A worker silent for longer than this is considered dead."""

    async def beat(self, status: WorkerStatus) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            queue_beat(pipe, status, self.ttl_s)
            await pipe.execute()

    async def remove(self, worker_id: str) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            queue_removal(pipe, worker_id)
            await pipe.execute()

    async def is_live(self, worker_id: str) -> bool:
        """The worker beat within `ttl_s`, taking turns or draining."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zscore(WORKERS, worker_id)
            pipe.zscore(DRAINING_WORKERS, worker_id)
            beats: list[float | None] = await pipe.execute()
        since = time.time() - self.ttl_s
        return any(beat_at is not None and beat_at > since for beat_at in beats)

    async def live_count(self) -> int:
        count: int = await self.redis.zcount(WORKERS, time.time() - self.ttl_s, "+inf")
        return count

    async def live(self) -> list[WorkerStatus]:
        """The live workers' statuses, oldest first; forgets workers that stopped beating."""
        now = time.time()
        await self.redis.zremrangebyscore(WORKERS, "-inf", now - self.ttl_s)
        ids: list[bytes] = await self.redis.zrange(WORKERS, 0, -1)
        if not ids:
            return []
        raw = await self.redis.mget([worker_status_key(i.decode()) for i in ids])
        statuses = [msgspec.json.decode(r, type=WorkerStatus) for r in raw if r is not None]
        return sorted(statuses, key=lambda s: s.started_at)
