"""The registry of live workers, on a real Redis."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from services.agent.liveness import WorkerHeartbeat
from services.agent.running_turns import RunningTurns
from shared.turns import keys
from shared.turns.holds import TurnHolds
from shared.turns.messages import Turn
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
    redis_client: Redis, redis_url: str
) -> None:
    registry = WorkerRegistry(redis_client, ttl_s=3.0)
    heartbeat = WorkerHeartbeat(
        redis_url, "w1", RunningTurns(), registry_ttl_s=3.0, max_turns=7, interval_s=0.05,
        slot_lease_s=60,
    )  # fmt: skip
    heartbeat.start()
    try:
        for _ in range(500):  # the first beat is immediate; this only waits for the thread
            if await registry.live_count():
                break
            await asyncio.sleep(0.01)
        [live] = await registry.live()
        assert (live.worker_id, live.running_turns, live.max_turns) == ("w1", 0, 7)
        assert await registry.is_live("w1") and not await registry.is_live("w2")

        # Draining (SIGTERM): no longer counted for new turns, still alive for its own.
        heartbeat.drain()
        for _ in range(500):
            if not await registry.live_count():
                break
            await asyncio.sleep(0.01)
        assert await registry.live() == []
        await asyncio.sleep(0.2)  # beats go on
        assert await registry.is_live("w1")
    finally:
        heartbeat.stop()
        await asyncio.to_thread(heartbeat.join, 5.0)

    assert await registry.live() == []
    assert not await registry.is_live("w1")  # withdrawn from both


async def test_a_worker_whose_loop_is_blocked_still_beats_and_keeps_its_turns_holds(
    redis_client: Redis, redis_url: str
) -> None:
    """A busy event loop (here: blocked outright) does not stop the heartbeat, nor the renewal of
    what its turns hold: slow is not dead, and a slow turn keeps its thread."""
    registry = WorkerRegistry(redis_client, ttl_s=0.5)
    holds = TurnHolds(redis_client)
    running = RunningTurns()
    admitted_at = time.time()
    turn = Turn(
        turn_id="turn-slow",
        user_id="alice",
        request=b"{}",
        enqueued_at_ms=int(admitted_at * 1000),
        thread_id="thr_busy",
    )
    # As the admission leaves them: the thread's lock and a stream slot, both short here.
    assert await holds.take_thread("thr_busy", "turn-slow", ttl_s=0.5)
    await redis_client.zadd(keys.open_streams("alice"), {"turn-slow": (admitted_at + 0.6) * 1000})
    running.add(turn, asyncio.create_task(asyncio.sleep(0)))
    heartbeat = WorkerHeartbeat(
        redis_url, "w-busy", running, registry_ttl_s=0.5, max_turns=1, interval_s=0.1,
        slot_lease_s=0.6,
    )  # fmt: skip
    heartbeat.start()
    try:
        time.sleep(1.5)  # noqa: ASYNC251  # blocks the loop for three times the registry's limit
        assert await registry.is_live("w-busy")
        assert await holds.holder("thr_busy") == "turn-slow"
        slot_expiry_ms = await redis_client.zscore(keys.open_streams("alice"), "turn-slow")
        assert slot_expiry_ms is not None and slot_expiry_ms > (admitted_at + 1.5) * 1000

        running.remove("turn-slow")  # its end: no longer kept, so the lock lapses
        await asyncio.sleep(1.0)
        assert await holds.holder("thr_busy") is None
    finally:
        heartbeat.stop()
        await asyncio.to_thread(heartbeat.join, 5.0)
    assert not await registry.is_live("w-busy")  # withdrawn
