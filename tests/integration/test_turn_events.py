"""A turn's event log and the gateway's notifier, against real Redis."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as redis_asyncio

from services.gateway.turn_events import TurnEventNotifier
from shared.turns import keys
from shared.turns.event_log import START, TurnEventLog, TurnEventWriter
from shared.turns.messages import TurnEvent


async def test_appends_are_read_in_order_and_announced(
    redis_client: redis_asyncio.Redis,
) -> None:
    log = TurnEventLog(redis_client)
    notifier = TurnEventNotifier(redis_client)
    listening = asyncio.create_task(notifier.run())
    try:
        news = notifier.watch("turn-a")
        other = notifier.watch("turn-b")
        await asyncio.sleep(0.1)  # subscribed
        news.clear()
        other.clear()
        assert await log.read("turn-a", START) == []

        await log.append("turn-a", TurnEvent(seq=1, kind="started"))
        await log.append("turn-a", TurnEvent(seq=2, kind="event", data=b'{"type":"x"}'))
        await asyncio.wait_for(news.wait(), timeout=2)
        assert not other.is_set()  # only the turn's own relay is woken

        entries = await log.read("turn-a", START)
        assert [(e.seq, e.kind, e.data) for _, e in entries] == [
            (1, "started", b""),
            (2, "event", b'{"type":"x"}'),
        ]
        assert await log.read("turn-a", entries[-1][0]) == []
        notifier.unwatch("turn-a")
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def test_a_relay_watching_after_the_fact_still_reads_everything(
    redis_client: redis_asyncio.Redis,
) -> None:
    log = TurnEventLog(redis_client)
    await log.append("turn-late", TurnEvent(seq=1, kind="event", data=b"1"))
    await log.append("turn-late", TurnEvent(seq=2, kind="end"))
    # No subscription existed when these were announced: the stream still has them.
    entries = await log.read("turn-late", START)
    assert [e.kind for _, e in entries] == ["event", "end"]


async def test_a_burst_of_events_is_written_in_order_in_few_batches(
    redis_client: redis_asyncio.Redis,
) -> None:
    log = TurnEventLog(redis_client)
    async with redis_client.pubsub() as pubsub:
        await pubsub.subscribe(keys.TURN_EVENTS_CHANNEL)
        writer = TurnEventWriter(log, "turn-burst")
        for n in range(300):
            await writer.append("event", str(n).encode())
        await writer.flush()

        entries = await log.read("turn-burst", START, count=1000)
        assert [(e.seq, e.data) for _, e in entries] == [
            (n + 1, str(n).encode()) for n in range(300)
        ]
        announcements = 0
        while (message := await pubsub.get_message(timeout=0.2)) is not None:
            announcements += message["type"] == "message"
    # The first event is written at once; the rest went in batches while writes were in flight.
    assert 1 <= announcements < 300


async def test_a_failed_write_is_raised_to_the_writer(
    redis_client: redis_asyncio.Redis,
) -> None:
    await redis_client.set(keys.turn_events("turn-broken"), b"not a stream")
    writer = TurnEventWriter(TurnEventLog(redis_client), "turn-broken")
    await writer.append("started")
    with contextlib.suppress(redis_asyncio.ResponseError):
        await writer.flush()
        raise AssertionError("the failed write was not raised")


async def test_the_log_expiry_is_set_first_and_restarted_by_the_end_not_by_each_write(
    redis_client: redis_asyncio.Redis,
) -> None:
    key = keys.turn_events("turn-ttl")
    writer = TurnEventWriter(TurnEventLog(redis_client), "turn-ttl")
    await writer.append("started")
    await writer.flush()
    assert 0 < await redis_client.ttl(key) <= keys.EVENT_LOG_TTL_S

    await redis_client.expire(key, 10 * keys.EVENT_LOG_TTL_S)  # tells a later EXPIRE apart
    await writer.append("event", b"{}")
    await writer.flush()
    assert await redis_client.ttl(key) > keys.EVENT_LOG_TTL_S  # a delta costs no EXPIRE

    await writer.append("end")
    await writer.flush()
    assert 0 < await redis_client.ttl(key) <= keys.EVENT_LOG_TTL_S
