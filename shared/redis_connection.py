"""The Redis client a service process opens once at start-up and shares."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.settings import RedisSettings

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 1.0
"""How long opening a connection may take: a Redis host that went away without refusing
(a node lost) fails a request in a second rather than hanging it."""


async def connect_redis(
    settings: RedisSettings, *, attempts: int = 5, retry_delay_s: float = 1.0
) -> Redis:
    """A client on `REDIS_URL` that has answered a PING. Redis often comes up after the services
    (a compose stack, pods scheduled together), so a refused first try is retried a few times
    before start-up fails with the last error."""
    redis: Redis = Redis.from_url(settings.url, socket_connect_timeout=CONNECT_TIMEOUT_S)
    for attempt in range(1, attempts + 1):
        try:
            await redis.ping()
            return redis
        except (OSError, RedisError) as exc:
            if attempt == attempts:
                await redis.aclose()
                raise
            logger.warning(
                "Redis not answering (%s); try %d of %d in %.0fs",
                exc,
                attempt + 1,
                attempts,
                retry_delay_s,
            )
            await asyncio.sleep(retry_delay_s)
    raise AssertionError("unreachable")  # the loop returns or raises
