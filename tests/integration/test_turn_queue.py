"""The turn queue: a turn is queued once, taken by one worker only, oldest first, and a turn
popped by a worker that starts shutting down goes back to the front."""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.messages import Turn, decode_turn
from shared.turns.queue import TurnOrigin, TurnQueue, give_back, pop_turn


def a_turn(turn_id: str, *, at_ms: int | None = None) -> Turn:
    return Turn(
        turn_id=turn_id,
        user_id="alice",
        request=b'{"type":"threads.create"}',
        enqueued_at_ms=at_ms if at_ms is not None else int(time.time() * 1000),
        thread_id="thr_1",
        news_channel="taskchat:turns:events:gw-1",
    )


async def test_an_enqueued_turn_is_what_a_worker_pops(redis_client: Redis) -> None:
    queue = TurnQueue(redis_client, turn_timeout_s=60)
    turn = a_turn("turn-q1")
    assert await queue.enqueue(turn)
    assert await queue.depth() == 1
    assert await queue.oldest_enqueued_at_s() == turn.enqueued_at_ms / 1000
    assert await queue.origin(turn.turn_id) == TurnOrigin(
        "alice", "thr_1", "taskchat:turns:events:gw-1"
    )
    # The owner record outlives the turn's events, so a re-join can be checked while they last.
    owner_ttl_s = await redis_client.ttl(keys.turn_owner(turn.turn_id))
    assert 60 + keys.EVENT_LOG_TTL_S - 5 < owner_ttl_s <= 60 + keys.EVENT_LOG_TTL_S

    popped = await pop_turn(redis_client, timeout_s=0.1)
    assert popped is not None and decode_turn(popped) == turn
    assert await queue.depth() == 0
    assert await queue.oldest_enqueued_at_s() is None


async def test_the_same_turn_is_queued_once(redis_client: Redis) -> None:
    queue = TurnQueue(redis_client, turn_timeout_s=60)
    turn = a_turn("turn-q2")
    assert await queue.enqueue(turn)
    assert not await queue.enqueue(turn)
    assert await queue.depth() == 1
    await pop_turn(redis_client, timeout_s=0.1)
    assert not await queue.enqueue(turn)  # run already: still not queued again
    assert await queue.depth() == 0


async def test_turns_are_taken_oldest_first_and_each_by_one_worker(redis_client: Redis) -> None:
    queue = TurnQueue(redis_client, turn_timeout_s=60)
    for n in range(6):
        await queue.enqueue(a_turn(f"turn-o{n}", at_ms=1_000 + n))
    # Three workers popping at once, twice each: every turn is taken once, oldest first.
    rounds = [
        await asyncio.gather(*(pop_turn(redis_client, timeout_s=0.1) for _ in range(3)))
        for _ in range(2)
    ]
    taken = [decode_turn(raw).turn_id for batch in rounds for raw in batch if raw is not None]
    assert sorted(taken[:3]) == ["turn-o0", "turn-o1", "turn-o2"]
    assert sorted(taken[3:]) == ["turn-o3", "turn-o4", "turn-o5"]
    assert await pop_turn(redis_client, timeout_s=0.1) is None


async def test_an_idle_pop_waits_for_the_next_turn(redis_client: Redis) -> None:
    queue = TurnQueue(redis_client, turn_timeout_s=60)
    waiting = asyncio.create_task(pop_turn(redis_client, timeout_s=5))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await queue.enqueue(a_turn("turn-late"))
    popped = await waiting
    assert popped is not None and decode_turn(popped).turn_id == "turn-late"
    assert time.monotonic() - started < 1  # woken by the push, not by the timeout


async def test_a_turn_given_back_goes_first(redis_client: Redis) -> None:
    queue = TurnQueue(redis_client, turn_timeout_s=60)
    for n in range(3):
        await queue.enqueue(a_turn(f"turn-b{n}", at_ms=2_000 + n))
    popped = await pop_turn(redis_client, timeout_s=0.1)
    assert popped is not None
    await give_back(redis_client, popped)
    again = [await pop_turn(redis_client, timeout_s=0.1) for _ in range(3)]
    assert [decode_turn(raw).turn_id for raw in again if raw] == ["turn-b0", "turn-b1", "turn-b2"]
