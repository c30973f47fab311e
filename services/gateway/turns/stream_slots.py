"""Per-user limit on concurrent streams, as leases in a Redis sorted set.

Each slot is a lease (a member, scored by an expiry time) that its holder renews. A new turn's
slot is taken at admission (`shared.turns.holds`, member: the turn id) and held until the turn's
end: renewed by the gateway while it relays, by the worker while it runs, so a turn whose client
left (`ON_DISCONNECT=continue`) keeps it. A re-join takes a slot of its own (`acquire`, member:
the turn id and a stream id), held while it relays; except that one re-join at a time streams on
the slot of a turn that still holds one (as a client whose connection dropped does), so a user at
their limit can still re-join their own turn. A process that crashes stops renewing, so its
leases lapse after `lease_s` instead of blocking the user forever. Expiry uses Redis's clock, the
same for every replica.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Final

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.errors import TooManyRequestsError
from shared.turns import keys

logger = logging.getLogger(__name__)

RETRY_AFTER_S: Final = 5
"""What a refused client is told: most answers finish within seconds."""

# Renew only a lease that is still there: a lapsed one may have been given to another stream.
_RENEW: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local renewed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[1]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return renewed
"""


# KEYS[1] the user's set, KEYS[2] the turn's rider; ARGV: limit, lease ms, member, turn id.
# Returns 2 when the re-join rides on the turn's slot, 1 when it took a slot, 0 when refused.
_REJOIN: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[4])
    and redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then
  return 2
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""

# KEYS[1] the turn's rider; ARGV: the re-join's member, lease ms (renew) or nothing (release).
_RENEW_RIDER: Final = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""
_RELEASE_RIDER: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def too_many_streams(limit: int) -> TooManyRequestsError:
    """The refusal of a stream beyond the user's `limit` (429)."""
    return TooManyRequestsError(
        f"You already have {limit} answers streaming; try again when one has finished.",
        retry_after_s=RETRY_AFTER_S,
    )


class _RenewedLease:
    """A lease its holder renews until cancelled (three times per lease period), so it lapses
    `lease_s` after a crash; the subclass says what renewing and releasing do."""

    def __init__(self, redis: Redis, key: str, member: str, lease_s: float) -> None:
        self._redis = redis
        self._key = key
        self._member = member
        self._lease_ms = int(lease_s * 1000)

    async def keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                await self._renew()
            except (OSError, RedisError):
                logger.warning("could not renew the stream lease %s", self._member)

    async def _renew(self) -> None:
        raise NotImplementedError

    async def release(self) -> None:
        raise NotImplementedError


class StreamLease(_RenewedLease):
    """A slot in the user's set of open streams."""

    def __init__(self, redis: Redis, user_id: str, member: str, lease_s: float) -> None:
        super().__init__(redis, keys.open_streams(user_id), member, lease_s)

    async def _renew(self) -> None:
        await self._redis.eval(_RENEW, 1, self._key, str(self._lease_ms), self._member)  # type: ignore[misc]

    async def release(self) -> None:
        await self._redis.zrem(self._key, self._member)


class RidingLease(_RenewedLease):
    """A re-join streaming on its turn's slot: holds the turn's rider key, not a slot."""

    def __init__(self, redis: Redis, turn_id: str, member: str, lease_s: float) -> None:
        super().__init__(redis, keys.turn_rider(turn_id), member, lease_s)

    async def _renew(self) -> None:
        await self._redis.eval(_RENEW_RIDER, 1, self._key, self._member, str(self._lease_ms))  # type: ignore[misc]

    async def release(self) -> None:
        await self._redis.eval(_RELEASE_RIDER, 1, self._key, self._member)  # type: ignore[misc]


class StreamLeases:
    def __init__(self, redis: Redis, limit: int, lease_s: float) -> None:
        self._redis = redis
        self._limit = limit
        self._lease_s = lease_s

    def held(self, user_id: str, member: str) -> StreamLease:
        """The lease `member` already holds (a turn's slot, taken at its admission)."""
        return StreamLease(self._redis, user_id, member, self._lease_s)

    async def acquire_rejoin(self, user_id: str, turn_id: str) -> StreamLease | RidingLease:
        """A lease for a re-join of `turn_id`: a ride on the turn's own slot if it holds one and
        no other re-join rides on it, else a slot of its own; `TooManyRequestsError` when the
        user has none left."""
        member = f"{turn_id}:rejoin:{uuid.uuid4().hex[:12]}"
        lease_ms = int(self._lease_s * 1000)
        taken = await self._redis.eval(  # type: ignore[misc]
            _REJOIN,
            2,
            keys.open_streams(user_id),
            keys.turn_rider(turn_id),
            str(self._limit),
            str(lease_ms),
            member,
            turn_id,
        )
        taken = int(taken)
        if taken == 2:
            return RidingLease(self._redis, turn_id, member, self._lease_s)
        if taken == 0:
            raise too_many_streams(self._limit)
        return StreamLease(self._redis, user_id, member, self._lease_s)
