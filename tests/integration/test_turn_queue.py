"""The turn queue writes arq's job format in one script: what arq reads back must be intact."""

from __future__ import annotations

import time

import pytest
from arq.connections import ArqRedis
from arq.jobs import Job, JobStatus

from shared.turns import keys
from shared.turns.messages import Turn, decode_turn
from shared.turns.queue import JobClaim, TurnOrigin, TurnQueue, decode_job, job_key


def a_turn(turn_id: str) -> Turn:
    return Turn(
        turn_id=turn_id,
        user_id="alice",
        request=b'{"type":"threads.create"}',
        enqueued_at_ms=int(time.time() * 1000),
        thread_id="thr_1",
    )


async def test_an_enqueued_turn_is_an_arq_job_a_worker_can_read(arq_redis: ArqRedis) -> None:
    turn = a_turn("turn-q1")
    assert await TurnQueue(arq_redis, turn_timeout_s=60).enqueue(turn)

    job = Job(turn.turn_id, arq_redis, _queue_name=keys.TURN_QUEUE)
    assert await job.status() == JobStatus.queued
    info = await job.info()
    assert info is not None
    assert info.function == keys.RUN_TURN_JOB and info.kwargs == {}
    assert info.enqueue_time.timestamp() * 1000 == pytest.approx(turn.enqueued_at_ms, abs=1)
    assert decode_turn(info.args[0]) == turn
    raw = await arq_redis.get(job_key(turn.turn_id))
    assert raw is not None and decode_job(raw) == turn  # as the bench's stand-in worker reads it
    # Unpicked, the job expires with the turn's timeout (arq then drops it unstarted).
    assert 55_000 < await arq_redis.pttl(f"arq:job:{turn.turn_id}") <= 60_000
    assert await arq_redis.zscore(keys.TURN_QUEUE, turn.turn_id) == turn.enqueued_at_ms
    assert await arq_redis.llen(keys.WORKER_WAKEUP) == 1  # type: ignore[misc]
    assert await TurnQueue(arq_redis, turn_timeout_s=60).origin(turn.turn_id) == TurnOrigin(
        "alice", "thr_1"
    )


async def test_the_same_turn_is_queued_once(arq_redis: ArqRedis) -> None:
    queue = TurnQueue(arq_redis, turn_timeout_s=60)
    turn = a_turn("turn-q2")
    assert await queue.enqueue(turn)
    assert not await queue.enqueue(turn)
    assert await queue.depth() == 1

    await arq_redis.delete(f"arq:job:{turn.turn_id}")
    await arq_redis.set(f"arq:result:{turn.turn_id}", b"x")  # run already, result kept
    assert not await queue.enqueue(turn)


async def test_wake_ups_are_capped(arq_redis: ArqRedis) -> None:
    queue = TurnQueue(arq_redis, turn_timeout_s=60)
    for n in range(keys.WORKER_WAKEUP_MAX_LEN + 10):
        await queue.enqueue(a_turn(f"turn-w{n}"))
    assert await arq_redis.llen(keys.WORKER_WAKEUP) == keys.WORKER_WAKEUP_MAX_LEN  # type: ignore[misc]


async def test_a_queued_turn_is_claimed_by_one_worker_only(arq_redis: ArqRedis) -> None:
    claim = JobClaim(arq_redis)
    turn = a_turn("turn-c1")
    await TurnQueue(arq_redis, turn_timeout_s=60).enqueue(turn)
    in_progress = f"arq:in-progress:{turn.turn_id}"

    async def claim_at(now_ms: int, job_id: str = turn.turn_id) -> int | None:
        return await claim.claim(job_id, now_ms, 5_000)

    assert await claim_at(turn.enqueued_at_ms - 1) is None  # not due yet
    assert await claim_at(turn.enqueued_at_ms + 10) == turn.enqueued_at_ms
    assert 0 < await arq_redis.pttl(in_progress) <= 5_000
    assert await claim_at(turn.enqueued_at_ms + 20) is None  # already taken
    assert await claim_at(10**13, job_id="not-queued") is None
