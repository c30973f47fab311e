"""SIGTERM while the worker's poll loop is blocked on the queue: the loop is not cancelled under a
pop that Redis may already have answered with a turn; the turn goes back, and nothing is lost."""

from __future__ import annotations

import asyncio
import signal

from arq.connections import ArqRedis
from redis.asyncio import Redis

from services.agent.worker import TurnWorker
from shared.settings import Settings
from shared.turns import keys
from shared.turns.messages import Turn
from shared.turns.queue import TurnQueue

IDLE_POLL_S = 2.0


async def test_sigterm_waits_for_the_pop_in_flight_and_its_turn_goes_back(
    base_env: dict[str, str], redis_url: str, redis_client: Redis
) -> None:
    settings = Settings.from_env({**base_env, "WORKER_IDLE_POLL_S": str(IDLE_POLL_S)})
    pool = ArqRedis.from_url(redis_url)
    worker = TurnWorker(settings, redis_pool=pool, handle_signals=False)
    try:
        # The poll loop, blocked on an empty queue (no turns running: nothing else to wait for).
        polling = asyncio.create_task(worker._take_turns())
        worker.main_task = polling
        await asyncio.sleep(0.2)
        worker.handle_sig_wait_for_completion(signal.SIGTERM)

        await asyncio.sleep(0.3)
        assert not polling.done(), "the loop was cancelled while its pop was in flight"
        # A gateway queues a turn now: the blocked pop takes it, the worker gives it back.
        turn = Turn(turn_id="turn-at-sigterm", user_id="alice", request=b"{}", enqueued_at_ms=1)
        assert await TurnQueue(redis_client, turn_timeout_s=60).enqueue(turn)

        await asyncio.wait([polling], timeout=IDLE_POLL_S + 2)
        assert polling.done() and not polling.cancelled()
        assert await redis_client.lrange(keys.TURN_QUEUE, 0, -1) == [  # type: ignore[misc]
            TurnQueue(redis_client, turn_timeout_s=60).prepare(turn).payload
        ]
        assert worker.tasks == {}
    finally:
        await pool.aclose()
