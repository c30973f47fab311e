"""Per-IP rate limit for requests without a valid token (guessing tokens, scanning)."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from shared.errors import TooManyRequestsError
from shared.turns import keys

WINDOW_S = 60


class AnonymousRateLimit:
    """A fixed one-minute window per client IP."""

    def __init__(self, redis: Redis, per_minute: int) -> None:
        self._redis = redis
        self._per_minute = per_minute

    async def hit(self, client_ip: str) -> None:
        """Count one unauthenticated request; `TooManyRequestsError` once over the limit."""
        now = time.time()
        window = int(now // WINDOW_S)
        key = keys.anonymous_requests(client_ip, window)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_S * 2)
            count, _ = await pipe.execute()
        if int(count) > self._per_minute:
            raise TooManyRequestsError(
                "Too many requests without a valid session token; slow down.",
                retry_after_s=int((window + 1) * WINDOW_S - now) + 1,
            )
