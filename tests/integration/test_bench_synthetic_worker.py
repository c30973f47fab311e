"""The benchmark's stand-in worker writes what a real worker would: a relay passes it all on."""

from __future__ import annotations

import json
import time

import redis.asyncio as redis_asyncio

from bench.synthetic_worker import answer
from services.gateway.turns.notifier import TurnEventNotifier
from services.gateway.turns.relay import RelayPolicy, TurnRelay
from shared.turns.event_log import START, TurnEventLog
from shared.turns.holds import TurnHolds
from shared.turns.messages import Turn

POLICY = RelayPolicy(start_timeout_s=2, silence_limit_s=2, keepalive_s=10)


async def test_an_answer_is_a_whole_turn_the_relay_passes_on(
    redis_client: redis_asyncio.Redis,
) -> None:
    turn = Turn(turn_id="syn-1", user_id="u", request=b"{}", enqueued_at_ms=int(time.time() * 1000))
    log = TurnEventLog(redis_client)
    await answer(log, TurnHolds(redis_client), turn, deltas=300)

    entries = [entry for _, entry in await log.read("syn-1", START, count=1000)]
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    assert (entries[0].kind, entries[-1].kind) == ("started", "end")

    notifier = TurnEventNotifier(redis_client)
    relay = TurnRelay("syn-1", notifier.watch("syn-1"), log, notifier, POLICY)
    body = b"".join([f async for f in relay.frames()])
    assert relay.outcome == "completed"
    events = [json.loads(line[6:]) for line in body.split(b"\n") if line.startswith(b"data: ")]
    assert events[0]["type"] == "thread.created"
    assert sum(e["type"] == "thread.item.updated" for e in events) == 300
    assert (
        events[-1]["type"] == "thread.item.done"
        and events[-1]["item"]["type"] == "assistant_message"
    )
