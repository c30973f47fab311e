"""The turn queue, behind a small interface of ours (arq is in maintenance-only mode).

Enqueueing uses the turn id as arq's job id, so enqueueing the same turn twice is a no-op, and
pushes a wake-up so an idle worker starts it within milliseconds instead of at its next poll.
"""

from __future__ import annotations

import msgspec
from arq.connections import ArqRedis

from shared.turns import keys
from shared.turns.messages import Turn, encode_turn


class TurnOrigin(msgspec.Struct, frozen=True, array_like=True):
    user_id: str
    thread_id: str | None


class TurnQueue:
    def __init__(self, redis: ArqRedis, *, turn_timeout_s: float) -> None:
        self._redis = redis
        self._turn_timeout_s = turn_timeout_s

    async def enqueue(self, turn: Turn) -> bool:
        """Queue `turn`; False if a turn with this id was already queued or run."""
        job = await self._redis.enqueue_job(
            keys.RUN_TURN_JOB,
            encode_turn(turn),
            _job_id=turn.turn_id,
            _queue_name=keys.TURN_QUEUE,
            # A turn nobody picked up in time has a user who was already told it failed.
            _expires=self._turn_timeout_s,
        )
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.lpush(keys.WORKER_WAKEUP, b"1")
            pipe.ltrim(keys.WORKER_WAKEUP, 0, keys.WORKER_WAKEUP_MAX_LEN - 1)
            pipe.set(
                keys.turn_owner(turn.turn_id),
                msgspec.msgpack.encode(TurnOrigin(turn.user_id, turn.thread_id)),
                ex=int(self._turn_timeout_s) + keys.EVENT_LOG_TTL_S,
            )
            await pipe.execute()
        return job is not None

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
