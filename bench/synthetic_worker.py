"""A stand-in worker: answers every queued turn with a fixed number of events, as fast as Redis
takes them, so a benchmark loads the gateway's relay alone.

It plays the real worker's part on the Redis side with the real code (the registry heartbeat, the
turn's event log and its publication, the turn's holds) and none of the rest (no model, no
database): what reaches the gateway is what a very fast model's turn looks like.

    python -m bench.synthetic_worker REDIS_URL --events 2000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid

import uvloop
from redis.asyncio import Redis

from services.agent.liveness import WorkerHeartbeat
from services.agent.running_turns import RunningTurns
from shared.turns.event_log import TurnEventLog, TurnEventWriter
from shared.turns.holds import TurnHolds
from shared.turns.messages import Turn, decode_turn
from shared.turns.queue import pop_turn
from shared.workers.registry import new_worker_id

DELTA = b"word "


def answer_events(turn: Turn, deltas: int) -> list[bytes]:
    """A turn's ChatKit events (JSON, `type` first, as chatkit writes them)."""
    thread_id = turn.thread_id or f"thr_{uuid.uuid4().hex[:12]}"
    item = f"msg_{uuid.uuid4().hex[:12]}"
    events = []
    if turn.thread_id is None:
        events.append(b'{"type":"thread.created","thread":{"id":"%s"}}' % thread_id.encode())
    events.append(
        b'{"type":"thread.item.added","item":{"type":"assistant_message","id":"%s"}}'
        % item.encode()
    )
    delta = (
        b'{"type":"thread.item.updated","item_id":"%s","update":{"type":'
        b'"assistant_message.content_part.text_delta","content_index":0,"delta":"%s"}}'
        % (item.encode(), DELTA)
    )
    events += [delta] * deltas
    events.append(
        b'{"type":"thread.item.done","item":{"type":"assistant_message","id":"%s"}}' % item.encode()
    )
    return events


async def answer(log: TurnEventLog, holds: TurnHolds, turn: Turn, deltas: int) -> None:
    writer = TurnEventWriter(log, turn.turn_id, channel=turn.news_channel)
    await writer.append("started")
    for event in answer_events(turn, deltas):
        await writer.append("event", event)
    await holds.release(turn.turn_id, turn.user_id, turn.thread_id)
    await writer.append("end")
    await writer.flush()


async def serve(redis_url: str, deltas: int) -> None:
    redis = Redis.from_url(redis_url)
    log, holds = TurnEventLog(redis), TurnHolds(redis)
    heartbeat = WorkerHeartbeat(
        redis_url, new_worker_id(), RunningTurns(), registry_ttl_s=10, max_turns=100_000,
        interval_s=1, slot_lease_s=60,
    )  # fmt: skip
    heartbeat.start()
    answering: set[asyncio.Task[None]] = set()
    try:
        while True:
            payload = await pop_turn(redis, timeout_s=1)
            if payload is None:
                continue
            task = asyncio.create_task(answer(log, holds, decode_turn(payload), deltas))
            answering.add(task)
            task.add_done_callback(answering.discard)
    finally:
        heartbeat.stop()
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic_worker")
    parser.add_argument("redis_url")
    parser.add_argument("--events", type=int, default=1000, help="text deltas per answer")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.redis_url, args.events))


if __name__ == "__main__":
    main()
