"""Quotas on a real Redis: shared by replicas (two instances), surviving restarts (a new
instance), and leases that a crashed gateway cannot hold forever."""

from __future__ import annotations

import time

import pytest
import redis.asyncio as redis_asyncio

from services.gateway.quotas.anonymous_rate import AnonymousRateLimit
from services.gateway.quotas.daily_messages import DailyMessageQuota, seconds_until_next_day
from services.gateway.turns.stream_slots import StreamLeases
from shared.errors import TooManyRequestsError
from shared.turns import keys


async def test_daily_quota_is_shared_by_replicas_and_survives_restarts(
    redis_client: redis_asyncio.Redis,
) -> None:
    replica_a = DailyMessageQuota(redis_client, limit=3)
    replica_b = DailyMessageQuota(redis_client, limit=3)
    await replica_a.take("alice")
    await replica_b.take("alice")
    await replica_a.take("alice")
    with pytest.raises(TooManyRequestsError) as caught:
        await replica_b.take("alice")
    assert 0 < caught.value.retry_after_s <= 86_401
    assert "3 messages for today" in caught.value.detail
    restarted = DailyMessageQuota(redis_client, limit=3)
    with pytest.raises(TooManyRequestsError):
        await restarted.take("alice")
    await restarted.take("bob")  # per user


async def test_a_refused_message_is_not_counted_and_give_back_undoes_take(
    redis_client: redis_asyncio.Redis,
) -> None:
    quota = DailyMessageQuota(redis_client, limit=1)
    await quota.take("carol")
    for _ in range(3):
        with pytest.raises(TooManyRequestsError):
            await quota.take("carol")
    await quota.give_back("carol")
    await quota.take("carol")


def test_retry_after_points_at_midnight_utc() -> None:
    from datetime import UTC, datetime

    assert seconds_until_next_day(datetime(2026, 1, 1, 23, 59, 0, tzinfo=UTC)) == 61


async def test_concurrent_streams_are_limited_and_released(
    redis_client: redis_asyncio.Redis,
) -> None:
    leases = StreamLeases(redis_client, limit=2, lease_s=60)
    first = await leases.acquire_rejoin("dave", "turn-1")
    await leases.acquire_rejoin("dave", "turn-2")
    with pytest.raises(TooManyRequestsError) as caught:
        await leases.acquire_rejoin("dave", "turn-3")
    assert caught.value.retry_after_s > 0
    await leases.acquire_rejoin("erin", "turn-4")  # per user
    await first.release()
    await leases.acquire_rejoin("dave", "turn-3")


async def test_a_crashed_gateways_lease_lapses(redis_client: redis_asyncio.Redis) -> None:
    leases = StreamLeases(redis_client, limit=1, lease_s=60)
    await leases.acquire_rejoin("frank", "turn-of-a-dead-gateway")
    with pytest.raises(TooManyRequestsError):
        await leases.acquire_rejoin("frank", "turn-2")
    # The lease is an expiry time; nobody renews a dead gateway's, so it passes. Move it into the
    # past instead of waiting a minute.
    [member] = await redis_client.zrange(keys.open_streams("frank"), 0, -1)
    await redis_client.zadd(keys.open_streams("frank"), {member: 1})
    await leases.acquire_rejoin("frank", "turn-2")
    assert await redis_client.pttl(keys.open_streams("frank")) > 0  # the set itself expires too


async def test_one_rejoin_rides_on_its_turns_slot_the_others_take_their_own(
    redis_client: redis_asyncio.Redis,
) -> None:
    leases = StreamLeases(redis_client, limit=1, lease_s=60)
    # As admission takes a turn's slot.
    await redis_client.zadd(keys.open_streams("hana"), {"turn-1": time.time() * 1000 + 60_000})
    # At her limit, she can still re-join her own running turn (a dropped connection)...
    riding = await leases.acquire_rejoin("hana", "turn-1")
    # ...once: a second re-join needs a slot of its own.
    with pytest.raises(TooManyRequestsError):
        await leases.acquire_rejoin("hana", "turn-1")
    await riding.release()
    again = await leases.acquire_rejoin("hana", "turn-1")
    await again.release()
    # A turn that holds no slot any more (it ended) carries no one.
    await redis_client.zrem(keys.open_streams("hana"), "turn-1")
    own = await leases.acquire_rejoin("hana", "turn-1")
    with pytest.raises(TooManyRequestsError):
        await leases.acquire_rejoin("hana", "turn-1")
    await own.release()
    assert await redis_client.zcard(keys.open_streams("hana")) == 0


async def test_anonymous_requests_are_rate_limited_per_ip(
    redis_client: redis_asyncio.Redis,
) -> None:
    limit = AnonymousRateLimit(redis_client, per_minute=5)
    for _ in range(5):
        await limit.hit("192.0.2.1")
    with pytest.raises(TooManyRequestsError) as caught:
        await limit.hit("192.0.2.1")
    assert 1 <= caught.value.retry_after_s <= 61
    await AnonymousRateLimit(redis_client, per_minute=5).hit("192.0.2.2")
