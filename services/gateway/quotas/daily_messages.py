"""Per-user daily message quota: one counter per user and UTC day."""

from __future__ import annotations

from collections.abc import Callable
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


class DailyMessageQuota:
    """Counts per user and UTC day; `counter` names the Redis key (messages by default, or
    dictated clips) and `noun` what the refusal says was used up."""

    def __init__(
        self,
        redis: Redis,
        limit: int,
        counter: Callable[[str, str], str] = keys.daily_messages,
        noun: str = "messages",
    ) -> None:
        self._redis = redis
        self._limit = limit
        self._counter = counter
        self._noun = noun

    async def take(self, user_id: str) -> None:
        """Count one message for today, or raise `TooManyRequestsError` (nothing counted)."""
        now = datetime.now(UTC)
        key = self._counter(user_id, now.date().isoformat())
        used = await self._redis.eval(  # type: ignore[misc]
            _TAKE, 1, key, str(self._limit), str(keys.DAILY_QUOTA_TTL_S)
        )
        if int(used) < 0:
            wait_s = seconds_until_next_day(now)
            raise TooManyRequestsError(
                f"You have sent your {self._limit} {self._noun} for today; the quota resets at "
                f"midnight UTC (in {wait_s // 3600} h {wait_s % 3600 // 60} min).",
                retry_after_s=wait_s,
            )

    async def give_back(self, user_id: str) -> None:
        """Undo `take` for a message that was never queued."""
        key = self._counter(user_id, datetime.now(UTC).date().isoformat())
        await self._redis.decr(key)
