"""The turn queue's protocol, in one place, behind a small interface of ours: how a turn is
queued, taken by exactly one worker, and looked at.

The queue is a Redis list of encoded turns (`keys.TURN_QUEUE`): a gateway pushes a turn on the
left, a worker pops from the right (oldest first) with one blocking call, which both waits for
work and takes it, so no other worker can. A turn is queued once: the push goes with the turn's
owner record (`keys.turn_owner`), set only if absent, in one script; queueing the same turn again
changes nothing. arq's own format (a sorted set of job ids, the job under a key of its own, an
in-progress mark, a retry counter, a wake-up list) cost 19 commands between gateway and worker
for every turn; this costs two, and the admission script queues the turn itself (see
`shared.turns.holds`), so the usual turn has no round trip of its own for it.

A turn is never run twice: a popped turn is gone from the queue. One whose worker dies before it
starts is reported by the gateway's start timeout, as before. A turn the gateway gave up on
(no worker took it in time, its client left) is marked cancelled, and a worker that pops it later
drops it (`services.agent.turn_runner`).
"""

from __future__ import annotations

from typing import Final

import msgspec
from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.messages import Turn, decode_turn, encode_turn


class TurnOrigin(msgspec.Struct, frozen=True, array_like=True):
    user_id: str
    thread_id: str | None
    news_channel: str | None = None
    """Where the turn's worker publishes its entries (`Turn.news_channel`), for a re-join."""


def enqueue_lua(owner: str, queue: str, origin: str, owner_ttl_s: str, turn: str) -> str:
    """A Lua statement that queues a turn unless its owner record exists (it was queued
    already), leaving `queued` true when it did; each argument is the Lua expression of a KEYS or
    ARGV entry. Shared by `TurnQueue.enqueue` and the admission script, which queues in the same
    call."""
    return (
        f"local queued = redis.call('SET', {owner}, {origin}, 'NX', 'EX', {owner_ttl_s})"
        f" and redis.call('LPUSH', {queue}, {turn}) > 0\n"
    )


_ENQUEUE: Final = (
    enqueue_lua("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[2]", "ARGV[3]") + "return queued and 1 or 0"
)


class QueuedTurn(msgspec.Struct, frozen=True):
    """What queueing a turn writes: the turn and its owner record, encoded once."""

    turn_id: str
    payload: bytes
    origin: bytes
    owner_ttl_s: int


class TurnQueue:
    def __init__(self, redis: Redis, *, turn_timeout_s: float) -> None:
        self._redis = redis
        self._turn_timeout_s = turn_timeout_s
        self._enqueue = redis.register_script(_ENQUEUE)

    def prepare(self, turn: Turn) -> QueuedTurn:
        """`turn` as queueing writes it."""
        return QueuedTurn(
            turn.turn_id,
            encode_turn(turn),
            msgspec.msgpack.encode(TurnOrigin(turn.user_id, turn.thread_id, turn.news_channel)),
            # Readable while the turn's events are: a re-join checks who may see them.
            int(self._turn_timeout_s) + keys.EVENT_LOG_TTL_S,
        )

    async def enqueue(self, turn: Turn) -> bool:
        """Queue `turn`; False if a turn with this id was queued before."""
        queued = self.prepare(turn)
        done: int = await self._enqueue(
            keys=[keys.turn_owner(turn.turn_id), keys.TURN_QUEUE],
            args=[queued.origin, queued.owner_ttl_s, queued.payload],
        )
        return done == 1

    async def origin(self, turn_id: str) -> TurnOrigin | None:
        """Who sent the turn, on which thread, while its events can still be read."""
        value: bytes | None = await self._redis.get(keys.turn_owner(turn_id))
        return None if value is None else msgspec.msgpack.decode(value, type=TurnOrigin)

    async def depth(self) -> int:
        """Turns waiting for a worker."""
        depth: int = await self._redis.llen(keys.TURN_QUEUE)  # type: ignore[misc]
        return depth

    async def oldest_enqueued_at_s(self) -> float | None:
        """When the turn waiting longest was queued (epoch seconds); None when none waits."""
        oldest: bytes | None = await self._redis.lindex(keys.TURN_QUEUE, -1)  # type: ignore[misc]
        if oldest is None:
            return None
        try:
            return decode_turn(oldest).enqueued_at_ms / 1000
        except msgspec.DecodeError:
            return None  # not a turn: a worker drops it

    async def cancel(self, turn_id: str) -> None:
        """Tell whichever worker holds (or will pick up) the turn that its client went away."""
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(keys.turn_cancelled(turn_id), b"1", ex=keys.CANCEL_MARK_TTL_S)
            pipe.publish(keys.TURN_CANCEL_CHANNEL, turn_id.encode())
            await pipe.execute()


async def pop_turn(redis: Redis, timeout_s: float) -> bytes | None:
    """Take the oldest queued turn, waiting up to `timeout_s` for one; None when none came. A
    worker's only read of the queue: one command per turn. (BRPOP rather than Redis 7's BLMPOP,
    which would take several at once: the embedded Redis of `make run` is 6.2.)"""
    popped = await redis.execute_command("BRPOP", keys.TURN_QUEUE, timeout_s)  # type: ignore[no-untyped-call]
    if popped is None:
        return None
    _, turn = popped
    return bytes(turn)


async def give_back(redis: Redis, turn: bytes) -> None:
    """Return a turn popped but not started (the worker began shutting down meanwhile) to the
    front of the queue."""
    await redis.rpush(keys.TURN_QUEUE, turn)  # type: ignore[misc]
