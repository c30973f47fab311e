"""A turn's event log and the gateway's notifier, against real Redis."""

from __future__ import annotations

import asyncio
import contextlib

import redis.asyncio as redis_asyncio

from services.gateway.turns.notifier import TurnEventNotifier
from shared.turns import keys
from shared.turns.event_log import START, TurnEventLog, TurnEventWriter
from shared.turns.messages import TurnEvent


async def test_appends_are_logged_in_order_and_published_to_their_turns_relay(
    redis_client: redis_asyncio.Redis,
) -> None:
    log = TurnEventLog(redis_client)
    notifier = TurnEventNotifier(redis_client)
    listening = asyncio.create_task(notifier.run())
    try:
        inbox = notifier.watch("turn-a")
        other = notifier.watch("turn-b")
        await asyncio.sleep(0.1)  # subscribed
        assert inbox.take() == [] and other.take() == []
        assert await log.read("turn-a", START) == []

        sent = [TurnEvent(seq=1, kind="started"), TurnEvent(seq=2, kind="event", data=b"{}")]
        await log.append("turn-a", sent[0])
        await log.append_many("turn-a", sent[1:])
        received: list[TurnEvent] = []
        while len(received) < 2:
            assert await inbox.wait(2)
            received += inbox.take()
        assert received == sent  # the entries themselves, in order
        assert not await other.wait(0.05)  # only the turn's own relay gets them

        entries = await log.read("turn-a", START)
        assert [e for _, e in entries] == sent
        assert await log.read("turn-a", entries[-1][0]) == []
        notifier.unwatch("turn-a")
    finally:
        listening.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listening


async def test_a_bare_turn_id_asks_the_relay_to_read_the_log(
    redis_client: redis_asyncio.Redis,
) -> None:
    """What workers published before they sent the entries along: still heard."""
    notifier = TurnEventNotifier(redis_client)
    listening = asyncio.create_task(notifier.run())
    try:
        inbox = notifier.watch("turn-old")
        await asyncio.sleep(0.1)
        inbox.take()
        inbox.read_log = False
        await redis_client.publish(keys.TURN_EVENTS_CHANNEL, b"turn-old")
        assert await inbox.wait(2)
        assert inbox.read_log and inbox.take() == []
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


async def test_the_log_expiry_is_set_by_the_first_write_alone(
    redis_client: redis_asyncio.Redis,
) -> None:
    key = keys.turn_events("turn-ttl")
    writer = TurnEventWriter(TurnEventLog(redis_client), "turn-ttl", expire_s=500)
    await writer.append("started")
    await writer.flush()
    assert 495 < await redis_client.ttl(key) <= 500

    await redis_client.expire(key, 10_000)  # tells a later EXPIRE apart
    await writer.append("event", b"{}")
    await writer.append("end")
    await writer.flush()
    assert await redis_client.ttl(key) > 9_000  # neither an event nor the end cost an EXPIRE


async def test_entries_linger_for_company_but_the_end_goes_at_once(
    redis_client: redis_asyncio.Redis,
) -> None:
    log = TurnEventLog(redis_client)
    async with redis_client.pubsub() as pubsub:
        await pubsub.subscribe(keys.TURN_EVENTS_CHANNEL)
        writer = TurnEventWriter(log, "turn-linger", linger_s=0.2)
        await writer.append("started")  # urgent: the gateway times the pickup on it
        await asyncio.sleep(0.05)
        assert [e.kind for _, e in await log.read("turn-linger", START)] == ["started"]
        await writer.append("event", b'{"type":"thread.item.done"}')
        await writer.append("heartbeat")
        await asyncio.sleep(0.05)
        assert len(await log.read("turn-linger", START)) == 1  # still waiting for company
        await asyncio.sleep(0.3)
        first = await log.read("turn-linger", START)
        assert [e.kind for _, e in first] == ["started", "event", "heartbeat"]  # in the linger
        assert len({entry_id for entry_id, _ in first[1:]}) == 1  # the two as one entry

        await writer.append("event", b'{"type":"thread.item.done"}')
        await writer.append("end")  # urgent: takes the lingering event along, no waiting
        await asyncio.sleep(0.05)
        rest = await log.read("turn-linger", first[-1][0])
        assert [e.kind for _, e in rest] == ["event", "end"]
        announcements = 0
        while (message := await pubsub.get_message(timeout=0.2)) is not None:
            announcements += message["type"] == "message"
    assert announcements == 3
