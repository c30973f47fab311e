"""The registry of live workers, on a real Redis."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from services.agent.liveness import beat_forever
from services.agent.running_turns import RunningTurns
from shared.workers.registry import WorkerRegistry, WorkerStatus


def status(worker_id: str, *, beat_at: float) -> WorkerStatus:
    return WorkerStatus(worker_id, "host", 1, beat_at - 10, 0, 5, beat_at)


async def test_a_worker_that_stops_beating_is_no_longer_live(redis_client: Redis) -> None:
    registry = WorkerRegistry(redis_client, ttl_s=2.0)
    now = time.time()
    await registry.beat(status("fresh", beat_at=now))
    await registry.beat(status("stale", beat_at=now - 5))

    assert await registry.live_count() == 1
    assert [s.worker_id for s in await registry.live()] == ["fresh"]
    assert await redis_client.zscore("taskchat:workers", "stale") is None  # forgotten


async def test_beating_worker_is_listed_with_its_load_and_withdrawn_when_stopped(
    redis_client: Redis,
) -> None:
    registry = WorkerRegistry(redis_client, ttl_s=3.0)
    task = asyncio.create_task(
        beat_forever(registry, "w1", RunningTurns(), max_turns=7, interval_s=0.05)
    )
    try:
        for _ in range(500):  # the first beat is immediate; this only waits for the task to run
            if await registry.live_count():
                break
            await asyncio.sleep(0.01)
        [live] = await registry.live()
        assert (live.worker_id, live.running_turns, live.max_turns) == ("w1", 0, 7)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert await registry.live() == []
