"""A turn's writer merging text deltas, batching entries, and publishing on its gateway's channel,
against real Redis."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from services.gateway.turns.notifier import TurnEventNotifier
from shared.turns import keys
from shared.turns.event_log import START, TurnEventLog, TurnEventWriter
from shared.turns.messages import TurnEvent
from shared.turns.text_deltas import TextDelta

LONG_WINDOW_S = 30.0
"""Long enough that nothing in a test is released by the clock unless the test waits for it."""


def delta(text: str, item: str = "msg_1", index: int = 0) -> TextDelta:
    return TextDelta(item, index, text)


async def logged(redis_client: redis_asyncio.Redis, turn_id: str) -> list[TurnEvent]:
    page = await TurnEventLog(redis_client).read(turn_id, START, count=1000)
    return [event for _, event in page]


def shown(events: list[TurnEvent]) -> list[Any]:
    """What each `event` entry says, as ChatKit.js reads it."""
    return [json.loads(e.data) for e in events if e.kind == "event"]


def delta_texts(events: list[TurnEvent]) -> list[str]:
    return [e["update"]["delta"] for e in shown(events) if e["type"] == "thread.item.updated"]


async def test_after_the_first_delta_the_ones_in_a_window_travel_as_one_event(
    redis_client: redis_asyncio.Redis,
) -> None:
    writer = TurnEventWriter(TurnEventLog(redis_client), "t-merge", coalesce_s=LONG_WINDOW_S)
    await writer.append("started")
    for word in ("Hello", " big", " wide", " world"):
        await writer.append_text_delta(delta(word))
    await writer.append("event", b'{"type":"thread.item.done"}')  # sends the held delta first
    await writer.append("end")
    await writer.flush()

    events = await logged(redis_client, "t-merge")
    assert [e.seq for e in events] == list(range(1, len(events) + 1))  # numbered without a gap
    assert [e.kind for e in events] == ["started", "event", "event", "event", "end"]
    assert delta_texts(events) == ["Hello", " big wide world"]
    assert [e["type"] for e in shown(events)] == [
        "thread.item.updated",
        "thread.item.updated",
        "thread.item.done",
    ]
    assert shown(events)[1] == {
        "type": "thread.item.updated",
        "item_id": "msg_1",
        "update": {
            "type": "assistant_message.content_part.text_delta",
            "content_index": 0,
            "delta": " big wide world",
        },
    }


async def test_a_held_delta_goes_out_when_its_window_ends_without_anything_after_it(
    redis_client: redis_asyncio.Redis,
) -> None:
    writer = TurnEventWriter(TurnEventLog(redis_client), "t-timer", coalesce_s=0.05)
    await writer.append_text_delta(delta("one"))
    await writer.append_text_delta(delta(" two"))
    await writer.append_text_delta(delta(" three"))
    # No flush, no further event: the window's end alone releases the held text.
    for _ in range(200):
        if len(await logged(redis_client, "t-timer")) == 2:
            break
        await asyncio.sleep(0.05)
    assert delta_texts(await logged(redis_client, "t-timer")) == ["one", " two three"]


async def test_deltas_of_different_parts_are_never_merged_nor_reordered(
    redis_client: redis_asyncio.Redis,
) -> None:
    writer = TurnEventWriter(TurnEventLog(redis_client), "t-parts", coalesce_s=LONG_WINDOW_S)
    sent = [
        delta("a1"), delta("a2"), delta("a3"),
        delta("b1", index=1), delta("b2", index=1),
        delta("c1", item="msg_2"), delta("c2", item="msg_2"), delta("c3", item="msg_2"),
        delta("a4"),
    ]  # fmt: skip
    for d in sent:
        await writer.append_text_delta(d)
    await writer.flush()
    events = shown(await logged(redis_client, "t-parts"))
    merged = [(e["item_id"], e["update"]["content_index"], e["update"]["delta"]) for e in events]
    assert merged == [
        ("msg_1", 0, "a1"),  # the first words of each part at once
        ("msg_1", 0, "a2a3"),
        ("msg_1", 1, "b1"),
        ("msg_1", 1, "b2"),
        ("msg_2", 0, "c1"),
        ("msg_2", 0, "c2c3"),
        ("msg_1", 0, "a4"),
    ]
    # Whatever the merging, the text is the text that was sent, in order.
    assert "".join(m[2] for m in merged) == "".join(d.delta for d in sent)


async def test_without_a_window_every_delta_is_its_own_event(
    redis_client: redis_asyncio.Redis,
) -> None:
    writer = TurnEventWriter(TurnEventLog(redis_client), "t-off", coalesce_s=0)
    for word in ("a", "b", "c"):
        await writer.append_text_delta(delta(word))
    await writer.flush()
    assert delta_texts(await logged(redis_client, "t-off")) == ["a", "b", "c"]


async def test_a_batch_is_one_stream_entry_and_reads_back_in_order(
    redis_client: redis_asyncio.Redis,
) -> None:
    log = TurnEventLog(redis_client)
    batch = [TurnEvent(seq=n, kind="event", data=str(n).encode()) for n in range(1, 6)]
    await log.append_many("t-batch", batch[:1])
    await log.append_many("t-batch", batch[1:])
    assert await redis_client.xlen(keys.turn_events("t-batch")) == 2  # one XADD per flush
    assert [e for _, e in await log.read("t-batch", START)] == batch
    first = await log.read_page("t-batch", START, count=1)
    assert first.full and [e for _, e in first.events] == batch[:1]
    rest = await log.read_page("t-batch", first.events[-1][0], count=1)
    assert rest.full and [e for _, e in rest.events] == batch[1:]
    assert not (await log.read_page("t-batch", rest.events[-1][0], count=1)).full


@pytest.fixture
async def two_gateways(
    redis_client: redis_asyncio.Redis,
) -> AsyncIterator[tuple[TurnEventNotifier, TurnEventNotifier]]:
    notifiers = (TurnEventNotifier(redis_client), TurnEventNotifier(redis_client))
    listening = [asyncio.create_task(n.run()) for n in notifiers]
    await asyncio.sleep(0.1)  # subscribed
    try:
        yield notifiers
    finally:
        for task in listening:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def test_a_turns_entries_reach_only_the_gateway_named_in_it(
    redis_client: redis_asyncio.Redis,
    two_gateways: tuple[TurnEventNotifier, TurnEventNotifier],
) -> None:
    mine, other = two_gateways
    assert mine.channel != other.channel
    own, elsewhere = mine.watch("t-own"), other.watch("t-own")
    writer = TurnEventWriter(TurnEventLog(redis_client), "t-own", channel=mine.channel)
    await writer.append("started")
    await writer.flush()
    assert await own.wait(2) and [e.kind for e in own.take()] == ["started"]
    assert not await elsewhere.wait(0.2)  # published on `mine`'s channel only


async def test_a_rejoin_on_another_gateway_listens_on_the_turns_channel_while_it_relays(
    redis_client: redis_asyncio.Redis,
    two_gateways: tuple[TurnEventNotifier, TurnEventNotifier],
) -> None:
    origin, rejoined = two_gateways
    inbox = rejoined.watch("t-moved")
    await rejoined.watch_channel("t-moved", origin.channel)
    writer = TurnEventWriter(TurnEventLog(redis_client), "t-moved", channel=origin.channel)
    await writer.append("started")
    await writer.flush()
    assert await inbox.wait(2) and [e.kind for e in inbox.take()] == ["started"]

    rejoined.unwatch("t-moved")
    await asyncio.sleep(0.1)  # unsubscribed
    counts = await redis_client.pubsub_numsub(origin.channel)
    assert counts == [(origin.channel.encode(), 1)]  # only the origin listens again
