"""The turn queue's protocol, in one place, behind a small interface of ours (arq is in
maintenance-only mode): how a turn is enqueued, claimed by one worker, and read back.

The queue is arq's: a sorted set of job ids scored by enqueue time, each job's pickled data under
`arq:job:<id>`, an `arq:in-progress:<id>` mark while a worker runs it. Enqueueing uses the turn id
as arq's job id, so enqueueing the same turn twice is a no-op, and pushes a wake-up so an idle
worker starts it within milliseconds instead of at its next poll. arq's own enqueue and claim take
three and four round trips; the scripts here do the same writes, in arq's format, in one each, on
the way to every answer's first token.
"""

from __future__ import annotations

import pickle
from typing import Final

import msgspec
from arq.connections import ArqRedis
from arq.constants import in_progress_key_prefix, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from shared.turns import keys
from shared.turns.messages import Turn, decode_turn, encode_turn


class TurnOrigin(msgspec.Struct, frozen=True, array_like=True):
    user_id: str
    thread_id: str | None
    news_channel: str | None = None
    """Where the turn's worker publishes its entries (`Turn.news_channel`), for a re-join."""


ENQUEUE_SCRIPT = """
if redis.call('EXISTS', KEYS[1], KEYS[2]) > 0 then return 0 end
redis.call('PSETEX', KEYS[1], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
redis.call('LPUSH', KEYS[4], '1')
redis.call('LTRIM', KEYS[4], 0, ARGV[5])
redis.call('SET', KEYS[5], ARGV[6], 'EX', ARGV[7])
return 1
"""
"""arq's enqueue (job data with an expiry, then its id in the queue scored by enqueue time) unless
the job or its result exists, plus the workers' wake-up and the turn's owner, atomically."""


CLAIM_JOB_SCRIPT: Final = """
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) > tonumber(ARGV[2]) then return false end
redis.call('PSETEX', KEYS[1], ARGV[3], '1')
return score
"""
"""arq's claim of a queued job, atomically: not already in progress (KEYS[1]), still queued in
KEYS[2] and due by ARGV[2]; mark it in progress for ARGV[3] ms. Returns its score, or nil."""


def job_key(turn_id: str) -> str:
    """Where arq keeps the queued turn's job data."""
    return job_key_prefix + turn_id


def decode_job(raw: bytes) -> Turn:
    """The turn in a job's data (arq's format: a pickled dict, the job's arguments under "a")."""
    return decode_turn(pickle.loads(raw)["a"][0])


class JobClaim:
    """A worker's claim of queued jobs (see `CLAIM_JOB_SCRIPT`)."""

    def __init__(self, redis: Redis, queue_name: str = keys.TURN_QUEUE) -> None:
        self._script: AsyncScript = redis.register_script(CLAIM_JOB_SCRIPT)
        self._queue_name = queue_name

    async def claim(self, job_id: str, now_ms: int, in_progress_ms: int) -> int | None:
        """The job's score (its enqueue time) if this worker now holds it; None when another
        worker does, it has finished, or it is not due yet."""
        score = await self._script(
            keys=[in_progress_key_prefix + job_id, self._queue_name],
            args=[job_id, now_ms, in_progress_ms],
        )
        return None if score is None else int(float(score))


class TurnQueue:
    def __init__(self, redis: ArqRedis, *, turn_timeout_s: float) -> None:
        self._redis = redis
        self._turn_timeout_s = turn_timeout_s
        self._enqueue_script = redis.register_script(ENQUEUE_SCRIPT)

    async def enqueue(self, turn: Turn) -> bool:
        """Queue `turn`; False if a turn with this id was already queued or run."""
        job = serialize_job(keys.RUN_TURN_JOB, (encode_turn(turn),), {}, None, turn.enqueued_at_ms)
        queued: int = await self._enqueue_script(
            keys=[
                job_key(turn.turn_id),
                result_key_prefix + turn.turn_id,
                keys.TURN_QUEUE,
                keys.WORKER_WAKEUP,
                keys.turn_owner(turn.turn_id),
            ],
            args=[
                turn.turn_id,
                job,
                # A turn nobody picked up in time has a user who was already told it failed.
                int(self._turn_timeout_s * 1000),
                turn.enqueued_at_ms,
                keys.WORKER_WAKEUP_MAX_LEN - 1,
                msgspec.msgpack.encode(TurnOrigin(turn.user_id, turn.thread_id, turn.news_channel)),
                int(self._turn_timeout_s) + keys.EVENT_LOG_TTL_S,
            ],
        )
        return queued == 1

    async def origin(self, turn_id: str) -> TurnOrigin | None:
        """Who sent the turn, on which thread, while its events can still be read."""
        value: bytes | None = await self._redis.get(keys.turn_owner(turn_id))
        return None if value is None else msgspec.msgpack.decode(value, type=TurnOrigin)

    async def depth(self) -> int:
        """Turns waiting for a worker."""
        depth: int = await self._redis.zcard(keys.TURN_QUEUE)
        return depth

    async def oldest_enqueued_at_s(self) -> float | None:
        """When the turn waiting longest was queued (epoch seconds); None when none waits.
        arq scores each queued job by the time it may run, which for a turn is its enqueue time."""
        oldest: list[tuple[bytes, float]] = await self._redis.zrange(
            keys.TURN_QUEUE, 0, 0, withscores=True
        )
        return oldest[0][1] / 1000 if oldest else None

    async def cancel(self, turn_id: str) -> None:
        """Tell whichever worker holds (or will pick up) the turn that its client went away."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.turn_cancelled(turn_id), b"1", ex=keys.CANCEL_MARK_TTL_S)
            pipe.publish(keys.TURN_CANCEL_CHANNEL, turn_id.encode())
            await pipe.execute()
