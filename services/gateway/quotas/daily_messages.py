"""Per-user daily message quota: one counter per user and UTC day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from redis.asyncio import Redis

from shared.errors import TooManyRequestsError
from shared.turns import keys

# Check and count in one step, so concurrent requests on several replicas cannot overshoot.
_TAKE: Final = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return -1 end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return used
"""


def seconds_until_next_day(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((tomorrow - now).total_seconds()) + 1


def day_counter(user_id: str, now: datetime) -> str:
    """The Redis key counting `user_id`'s messages on the UTC day of `now`."""
    return keys.daily_messages(user_id, now.date().isoformat())


def quota_exhausted(limit: int, now: datetime) -> TooManyRequestsError:
    """The refusal of a message beyond today's `limit` (429, retry at midnight UTC)."""
    wait_s = seconds_until_next_day(now)
    return TooManyRequestsError(
        f"You have sent your {limit} messages for today; the quota resets at "
        f"midnight UTC (in {wait_s // 3600} h {wait_s % 3600 // 60} min).",
        retry_after_s=wait_s,
    )


class DailyMessageQuota:
    def __init__(self, redis: Redis, limit: int) -> None:
        self._redis = redis
        self._limit = limit

    async def take(self, user_id: str) -> None:
        """Count one message for today, or raise `TooManyRequestsError` (nothing counted)."""
        now = datetime.now(UTC)
        used = await self._redis.eval(  # type: ignore[misc]
            _TAKE, 1, day_counter(user_id, now), str(self._limit), str(keys.DAILY_QUOTA_TTL_S)
        )
        if int(used) < 0:
            raise quota_exhausted(self._limit, now)

    async def give_back(self, user_id: str) -> None:
        """Undo `take` for a message that was never queued."""
        await self._redis.decr(day_counter(user_id, datetime.now(UTC)))
