"""The thread turn lock (Redis) and turn records with their sweeper (Postgres + Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
import redis
from redis.asyncio import Redis

from services.agent.turn_sweeper import sweep_once
from shared.db.pool import DbPool
from shared.turns import keys
from shared.turns.event_log import FIELD, TurnEventLog
from shared.turns.holds import HoldRenewals, Renewal, TurnHolds
from shared.turns.messages import TurnEvent, encode_event
from shared.turns.records import TurnRecords
from shared.workers.registry import WorkerRegistry, WorkerStatus


@pytest.fixture
def renewals(redis_url: str) -> Iterator[HoldRenewals]:
    """As the worker's heartbeat thread renews, on a synchronous client."""
    client = redis.Redis.from_url(redis_url)
    try:
        yield HoldRenewals(client, lock_ttl_s=5)
    finally:
        client.close()


def renewal(turn_id: str) -> Renewal:
    return Renewal(turn_id, "alice", "thr_1", slot_lease_s=5)


async def test_one_turn_holds_a_thread_until_it_releases_it(
    redis_client: Redis, renewals: HoldRenewals
) -> None:
    holds = TurnHolds(redis_client)
    assert await holds.take_thread("thr_1", "turn-a", ttl_s=5)
    assert not await holds.take_thread("thr_1", "turn-b", ttl_s=5)
    assert await holds.take_thread("thr_2", "turn-b", ttl_s=5)  # other threads are free

    await holds.release("turn-b", "alice", "thr_1")  # not its lock: no effect
    assert await holds.holder("thr_1") == "turn-a"
    assert renewals.renew([renewal("turn-b"), renewal("turn-a")]) == ["turn-b"]

    await holds.release("turn-a", "alice", "thr_1")
    assert await holds.take_thread("thr_1", "turn-b", ttl_s=5)


async def test_a_lock_whose_holder_died_expires(
    redis_client: Redis, renewals: HoldRenewals
) -> None:
    holds = TurnHolds(redis_client)
    assert await holds.take_thread("thr_1", "turn-a", ttl_s=0.05)
    await asyncio.sleep(0.1)
    assert await holds.take_thread("thr_1", "turn-b", ttl_s=5)
    # A late heartbeat cannot steal it.
    assert renewals.renew([renewal("turn-a")]) == ["turn-a"]
    assert await holds.holder("thr_1") == "turn-b"


async def record_running(db_pool: DbPool, turn_id: str) -> None:
    """A turn's record as its worker's first statement leaves it (`shared/store/turn_writes.py`,
    tested in test_turn_writes.py)."""
    await db_pool.execute(
        "INSERT INTO turns (turn_id, user_id, thread_id, status, queued_at)"
        " VALUES ($1, 'alice', 'thr_1', 'running', now())",
        turn_id,
    )


async def test_sweeper_fails_silent_running_turns_of_dead_workers_only(
    db_pool: DbPool, redis_client: Redis
) -> None:
    records = TurnRecords(db_pool)
    events = TurnEventLog(redis_client)
    workers = WorkerRegistry(redis_client, ttl_s=5)
    turn_ids = ("silent", "speaking", "done", "busy", "overdue", "orphaned")
    for turn_id in turn_ids:
        await record_running(db_pool, turn_id)
    await db_pool.execute(
        "UPDATE turns SET status = 'completed', finished_at = now() WHERE turn_id = $1", "done"
    )
    await db_pool.execute("UPDATE turns SET started_at = now() - interval '10 minutes'")
    await events.append("speaking", TurnEvent(seq=1, kind="heartbeat"))
    # Started by workers, then silent for a while: one worker still beats (its loop is busy),
    # the other is gone.
    now = time.time()
    await workers.beat(WorkerStatus("w-busy", "host", 1, now - 60, 1, 5, now))
    for turn_id, worker_id, silent_s in (
        ("busy", "w-busy", 30),
        ("overdue", "w-busy", 300),
        ("orphaned", "w-gone", 30),
    ):
        started = encode_event(TurnEvent(seq=1, kind="started", data=worker_id.encode()))
        at_ms = int((now - silent_s) * 1000)
        await redis_client.xadd(keys.turn_events(turn_id), {FIELD: started}, id=f"{at_ms}-0")

    failed = await sweep_once(redis_client, records, workers, silence_limit_s=5, busy_limit_s=120)

    assert sorted(failed) == ["orphaned", "overdue", "silent"]
    rows = await db_pool.fetch("SELECT turn_id, status FROM turns")
    statuses = {row["turn_id"]: row["status"] for row in rows}
    assert statuses == {
        "silent": "failed",
        "speaking": "running",
        "done": "completed",
        "busy": "running",  # slow, not dead
        "overdue": "failed",  # silent for longer than any turn may last
        "orphaned": "failed",
    }
