"""Per-user daily quotas: one counter per user and UTC day (messages, or dictated clips)."""

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


def day_counter(user_id: str, now: datetime) -> str:
    """The Redis key counting `user_id`'s messages on the UTC day of `now`."""
    return keys.daily_messages(user_id, now.date().isoformat())


def quota_exhausted(limit: int, now: datetime, noun: str = "messages") -> TooManyRequestsError:
    """The refusal of a use beyond today's `limit` (429, retry at midnight UTC)."""
    wait_s = seconds_until_next_day(now)
    return TooManyRequestsError(
        f"You have sent your {limit} {noun} for today; the quota resets at "
        f"midnight UTC (in {wait_s // 3600} h {wait_s % 3600 // 60} min).",
        retry_after_s=wait_s,
    )


class DailyMessageQuota:
    """Counts per user and UTC day; `counter` names the Redis key (messages by default, or
    dictated clips) and `noun` what the refusal says was used up. Turns take their daily
    message inside the admission script (`shared/turns/holds.py`); this is for the rest."""

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
        """Count one use for today, or raise `TooManyRequestsError` (nothing counted)."""
        now = datetime.now(UTC)
        key = self._counter(user_id, now.date().isoformat())
        used = await self._redis.eval(  # type: ignore[misc]
            _TAKE, 1, key, str(self._limit), str(keys.DAILY_QUOTA_TTL_S)
        )
        if int(used) < 0:
            raise quota_exhausted(self._limit, now, self._noun)

    async def give_back(self, user_id: str) -> None:
        """Undo `take` for a use that did not happen."""
        await self._redis.decr(self._counter(user_id, datetime.now(UTC).date().isoformat()))
