"""The turn queue, behind a small interface of ours (arq is in maintenance-only mode).

Enqueueing uses the turn id as arq's job id, so enqueueing the same turn twice is a no-op, and
pushes a wake-up so an idle worker starts it within milliseconds instead of at its next poll.
"""

from __future__ import annotations

import msgspec
from arq.connections import ArqRedis
from arq.constants import job_key_prefix, result_key_prefix
from arq.jobs import serialize_job

from shared.turns import keys
from shared.turns.messages import Turn, encode_turn


class TurnOrigin(msgspec.Struct, frozen=True, array_like=True):
    user_id: str
    thread_id: str | None


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


class TurnQueue:
    def __init__(self, redis: ArqRedis, *, turn_timeout_s: float) -> None:
        self._redis = redis
        self._turn_timeout_s = turn_timeout_s
        self._enqueue_script = redis.register_script(ENQUEUE_SCRIPT)

    async def enqueue(self, turn: Turn) -> bool:
        """Queue `turn`; False if a turn with this id was already queued or run."""
        # arq's own `enqueue_job` takes three round trips (WATCH, EXISTS, MULTI/EXEC) and the
        # wake-up and owner a fourth; this script does the same writes, in arq's job format, in
        # one, on the way to every answer's first token.
        job = serialize_job(keys.RUN_TURN_JOB, (encode_turn(turn),), {}, None, turn.enqueued_at_ms)
        queued: int = await self._enqueue_script(
            keys=[
                job_key_prefix + turn.turn_id,
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
                msgspec.msgpack.encode(TurnOrigin(turn.user_id, turn.thread_id)),
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
