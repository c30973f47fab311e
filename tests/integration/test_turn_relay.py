"""The relay against a real Redis Stream: order, duplicates, gaps, re-joining, a dead worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import redis.asyncio as redis_asyncio

from services.gateway.turns.notifier import TurnEventNotifier, TurnInbox
from services.gateway.turns.relay import RelayOutcome, RelayPolicy, TurnRelay
from shared.turns.event_log import TurnEventLog
from shared.turns.messages import CANCELLED_END, TurnEvent
from shared.workers.registry import WorkerRegistry, WorkerStatus

POLICY = RelayPolicy(start_timeout_s=2, silence_limit_s=0.3, keepalive_s=10)


async def relay_with_outcome(
    redis_client: redis_asyncio.Redis, entries: list[TurnEvent], after_seq: int = 0
) -> tuple[list[bytes], RelayOutcome]:
    log = TurnEventLog(redis_client)
    for entry in entries:
        await log.append("t1", entry)
    notifier = TurnEventNotifier(redis_client)
    relay = TurnRelay("t1", notifier.watch("t1"), log, notifier, POLICY, after_seq=after_seq)
    frames: AsyncIterator[bytes] = relay.frames()
    return [frame async for frame in frames], relay.outcome


async def relay(
    redis_client: redis_asyncio.Redis, entries: list[TurnEvent], after_seq: int = 0
) -> list[bytes]:
    return (await relay_with_outcome(redis_client, entries, after_seq))[0]


def event(seq: int, text: str) -> TurnEvent:
    return TurnEvent(seq=seq, kind="event", data=b'{"type":"' + text.encode() + b'"}')


async def test_events_are_relayed_once_in_order_with_ids(
    redis_client: redis_asyncio.Redis,
) -> None:
    entries = [TurnEvent(seq=1, kind="started"), event(2, "a"), event(2, "a"), event(3, "b")]
    frames, outcome = await relay_with_outcome(
        redis_client, [*entries, TurnEvent(seq=4, kind="end")]
    )
    assert b"".join(frames) == (b'id: t1:2\ndata: {"type":"a"}\n\nid: t1:3\ndata: {"type":"b"}\n\n')
    assert outcome == "completed"


async def test_a_cancelled_turns_end_says_so(redis_client: redis_asyncio.Redis) -> None:
    entries = [TurnEvent(seq=1, kind="started"), event(2, "a")]
    end = TurnEvent(seq=3, kind="end", data=CANCELLED_END)
    frames, outcome = await relay_with_outcome(redis_client, [*entries, end])
    assert b"".join(frames) == b'id: t1:2\ndata: {"type":"a"}\n\n'
    assert outcome == "cancelled"


async def test_a_missing_event_ends_the_stream_with_an_error(
    redis_client: redis_asyncio.Redis,
) -> None:
    entries = [TurnEvent(seq=1, kind="started"), event(2, "a"), event(4, "c")]
    frames, outcome = await relay_with_outcome(
        redis_client, [*entries, TurnEvent(seq=5, kind="end")]
    )
    assert b"".join(frames) == b'id: t1:2\ndata: {"type":"a"}\n\n'  # nothing after the gap
    assert outcome == "gap"  # the turn goes on: a reload shows its answer


async def test_rejoining_skips_what_the_client_had(redis_client: redis_asyncio.Redis) -> None:
    entries = [TurnEvent(seq=1, kind="started"), event(2, "a"), event(3, "b"), event(4, "c")]
    frames = await relay(redis_client, [*entries, TurnEvent(seq=5, kind="end")], after_seq=3)
    assert b"".join(frames) == b'id: t1:4\ndata: {"type":"c"}\n\n'


async def test_a_silent_worker_is_reported_lost(redis_client: redis_asyncio.Redis) -> None:
    frames, outcome = await asyncio.wait_for(
        relay_with_outcome(redis_client, [TurnEvent(seq=1, kind="started"), event(2, "a")]), 5
    )
    assert b"".join(frames) == b'id: t1:2\ndata: {"type":"a"}\n\n'
    assert outcome == "worker_lost"


async def test_a_silent_turn_whose_worker_still_beats_waits_until_the_turns_limit(
    redis_client: redis_asyncio.Redis,
) -> None:
    """A worker too busy to send its turns' heartbeats in time, but alive in the registry (its
    beat comes from a thread of its own), is slow, not lost: the stream waits, up to the longest
    a turn may last. A silent turn whose worker stopped beating is lost at the silence limit."""
    workers = WorkerRegistry(redis_client, ttl_s=5)
    await workers.beat(WorkerStatus("w-busy", "host", 1, time.time(), 1, 5, time.time()))
    policy = RelayPolicy(start_timeout_s=2, silence_limit_s=0.3, keepalive_s=10, busy_limit_s=1.5)
    log = TurnEventLog(redis_client)
    notifier = TurnEventNotifier(redis_client)

    async def outcome_and_time(turn_id: str, worker_id: str) -> tuple[RelayOutcome, float]:
        await log.append(turn_id, TurnEvent(seq=1, kind="started", data=worker_id.encode()))
        relay = TurnRelay(turn_id, notifier.watch(turn_id), log, notifier, policy, workers=workers)
        started = time.monotonic()
        async for _ in relay.frames():
            pass
        return relay.outcome, time.monotonic() - started

    (busy, busy_s), (gone, gone_s) = await asyncio.wait_for(
        asyncio.gather(outcome_and_time("t-busy", "w-busy"), outcome_and_time("t-gone", "w-gone")),
        10,
    )
    assert (busy, gone) == ("worker_lost", "worker_lost")
    assert 1.5 <= busy_s < 3  # waited out the busy limit, not the silence limit
    assert gone_s < 1.0  # the silence limit (0.3 s), read every 0.1 s


async def relay_published(
    redis_client: redis_asyncio.Redis,
    logged: list[TurnEvent],
    published: list[TurnEvent],
    *,
    logged_unpublished: list[TurnEvent] = [],  # noqa: B006 (never mutated)
    log_published: bool = True,
) -> list[bytes]:
    """Relay a turn whose log holds `logged`; once the relay has read it, the worker logs
    `logged_unpublished` (their publication lost), then logs and publishes `published` (or, with
    `log_published` off, only publishes them: what reaches the client then came by publication)."""
    log = TurnEventLog(redis_client)
    await log.append_many("t2", logged)
    notifier = TurnEventNotifier(redis_client)
    inbox = notifier.watch("t2")
    frames = TurnRelay("t2", inbox, log, notifier, POLICY).frames()
    first = await anext(frames)  # the relay has read the log and relayed it
    if logged_unpublished:
        await log.append_many("t2", logged_unpublished)
    if log_published:
        await log.append_many("t2", published)
    inbox.deliver(published)
    return [first, *[frame async for frame in frames]]


async def test_published_entries_are_relayed_without_reading_them_back(
    redis_client: redis_asyncio.Redis,
) -> None:
    # Entries that are only published (never logged) can only reach the client by publication.
    frames = await relay_published(
        redis_client,
        [TurnEvent(seq=1, kind="started"), event(2, "a")],
        [event(2, "a"), event(3, "b"), TurnEvent(seq=4, kind="end")],
        log_published=False,
    )
    assert b"".join(frames) == b'id: t2:2\ndata: {"type":"a"}\n\nid: t2:3\ndata: {"type":"b"}\n\n'


async def test_a_gap_in_what_was_published_is_filled_from_the_log(
    redis_client: redis_asyncio.Redis,
) -> None:
    frames = await relay_published(
        redis_client,
        [TurnEvent(seq=1, kind="started"), event(2, "a")],
        [event(4, "c"), TurnEvent(seq=5, kind="end")],
        logged_unpublished=[event(3, "b")],
    )
    assert b"".join(frames) == (
        b'id: t2:2\ndata: {"type":"a"}\n\nid: t2:3\ndata: {"type":"b"}\n\n'
        b'id: t2:4\ndata: {"type":"c"}\n\n'
    )


async def test_a_relay_far_behind_reads_the_log_instead_of_holding_everything(
    redis_client: redis_asyncio.Redis,
) -> None:
    """A client that reads slowly must not make the gateway hold its whole answer: past
    `MAX_BUFFERED` the inbox lets go and the relay reads the log a page at a time."""
    answer = [event(n, f"e{n}") for n in range(2, 3002)]
    turn = [TurnEvent(seq=1, kind="started"), *answer, TurnEvent(seq=3002, kind="end")]
    log = TurnEventLog(redis_client)
    await log.append_many("t3", turn)
    notifier = TurnEventNotifier(redis_client)
    inbox = notifier.watch("t3")
    for start in range(0, len(turn), 100):  # published while the client was not reading
        inbox.deliver(turn[start : start + 100])
        assert inbox.buffered <= TurnInbox.MAX_BUFFERED
    frames = TurnRelay("t3", inbox, log, notifier, POLICY).frames()
    body = b"".join([frame async for frame in frames])
    assert body.count(b"data: ") == 3000
    assert body.index(b'"e2"') < body.index(b'"e1500"') < body.index(b'"e3001"')
