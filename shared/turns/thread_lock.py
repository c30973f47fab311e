"""One turn at a time per thread, across every gateway and worker.

A Redis key per thread holds the id of the turn that owns it. The gateway takes it before queueing
a turn (`SET NX`, so two gateways cannot both win), the worker keeps it alive while it runs the
turn, and whoever ends the turn releases it. It expires on its own when its holder dies, so a
crashed process blocks a thread for seconds, never for good.
"""

from __future__ import annotations

from redis.asyncio import Redis

from shared.turns import keys

# Delete / extend only if the key still names our turn: a lock that expired and was taken by a
# newer turn must not be released or extended by the old one.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_EXTEND = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
)


class ThreadTurnLock:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def acquire(self, thread_id: str, turn_id: str, ttl_s: float) -> bool:
        """Take the thread for `turn_id`; False when another turn holds it."""
        taken = await self._redis.set(
            keys.thread_turn(thread_id), turn_id.encode(), nx=True, px=_ms(ttl_s)
        )
        return bool(taken)

    async def extend(self, thread_id: str, turn_id: str, ttl_s: float) -> bool:
        """Keep holding the thread for another `ttl_s`; False if the turn no longer holds it."""
        result = await self._redis.eval(  # type: ignore[misc]
            _EXTEND, 1, keys.thread_turn(thread_id), turn_id, str(_ms(ttl_s))
        )
        return bool(result)

    async def release(self, thread_id: str, turn_id: str) -> None:
        await self._redis.eval(_RELEASE, 1, keys.thread_turn(thread_id), turn_id)  # type: ignore[misc]

    async def holder(self, thread_id: str) -> str | None:
        value: bytes | None = await self._redis.get(keys.thread_turn(thread_id))
        return value.decode() if value is not None else None


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
