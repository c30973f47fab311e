"""The worker process: arq's worker (start-up, signals, draining, health key) around our turn
queue (`shared.turns.queue`) instead of arq's job format.

The poll loop takes turns one blocking pop at a time, bounded by `idle_poll_s`: an idle worker
starts a queued turn within a Redis round trip, and costs one blocking call per `idle_poll_s`
rather than a busy loop. It pops only while it has room, so a turn it cannot start stays queued
for a worker that can.

arq's loop stops the process at the first Redis error; ours waits and retries instead, so a worker
outlives a Redis restart. On SIGTERM the worker moves to the registry's draining workers (no longer
counted for new turns), takes no new turns and gives running ones `WORKER_DRAIN_S` to finish
(arq's `job_completion_wait`); a turn it popped but had not started goes back to the queue, and
the loop is cancelled only once no pop is in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import datetime
from functools import partial
from signal import Signals
from time import time
from typing import Any

import msgspec
from arq.connections import RedisSettings as ArqRedisSettings
from arq.worker import Worker, func
from redis.exceptions import RedisError

from services.agent.runtime import WorkerRuntime, open_runtime
from shared.gc_freeze import freeze_startup_objects
from shared.observability.log_context import log_context
from shared.settings import Settings
from shared.turns import keys
from shared.turns.messages import Turn, decode_turn
from shared.turns.queue import give_back, pop_turn

logger = logging.getLogger(__name__)

REDIS_RETRY_S = 0.5
"""Pause between attempts to reach Redis while it is down."""


async def run_turn(ctx: dict[str, Any], turn: Turn) -> None:
    runtime: WorkerRuntime = ctx["runtime"]
    with log_context(turn_id=turn.turn_id, user_id=turn.user_id), runtime.tracing.running(turn):
        await runtime.runner.run(turn)


async def on_startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    opened = contextlib.AsyncExitStack()
    ctx["runtime"] = await opened.enter_async_context(open_runtime(settings, ctx["redis"]))
    ctx["opened"] = opened
    freeze_startup_objects()


async def on_shutdown(ctx: dict[str, Any]) -> None:
    opened: contextlib.AsyncExitStack | None = ctx.pop("opened", None)
    if opened is not None:
        await opened.aclose()


class TurnWorker(Worker):
    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        worker = settings.worker
        super().__init__(
            functions=[
                func(
                    run_turn,
                    name=keys.RUN_TURN_JOB,
                    # Longer than our own turn timeout, so ours fires first and tells the user.
                    timeout=worker.turn_timeout_s + 30,
                )
            ],
            queue_name=keys.TURN_QUEUE,
            redis_settings=ArqRedisSettings.from_dsn(settings.redis.url),
            max_jobs=worker.max_concurrent_turns,
            poll_delay=0,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            ctx={"settings": settings},
            job_completion_wait=math.ceil(worker.drain_s),
            **kwargs,
        )
        self.idle_poll_s = worker.idle_poll_s
        # Clear while a blocking pop (and the give-back it may need) is in flight: shutdown waits
        # for it, since a turn Redis handed to a pop that is then cancelled would be lost.
        self._not_popping = asyncio.Event()
        self._not_popping.set()

    async def _poll_iteration(self) -> None:
        try:
            if self.allow_pick_jobs:
                await self._take_turns()
            else:  # draining: nothing to take
                await asyncio.sleep(self.idle_poll_s)
            await self.heart_beat()
        except RedisError as exc:
            # redis-py reconnects on the next command; running turns fail on their own.
            logger.warning("Redis unavailable (%s); retrying in %.1fs", exc, REDIS_RETRY_S)
            await asyncio.sleep(REDIS_RETRY_S)

    async def _take_turns(self) -> None:
        room = self.max_jobs - len(self.tasks)
        if room <= 0:  # full: wait for a turn to end (or the idle bound, to record health)
            await asyncio.wait(
                list(self.tasks.values()),
                timeout=self.idle_poll_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
            return
        self._not_popping.clear()
        try:
            payload = await pop_turn(self.pool, self.idle_poll_s)
            if payload is None:
                return
            if not self.allow_pick_jobs:  # SIGTERM came while we waited: another worker runs it
                await give_back(self.pool, payload)
                return
        finally:
            self._not_popping.set()
        try:
            turn = decode_turn(payload)
        except msgspec.DecodeError:
            logger.error("dropped a queued entry that is not a turn: %r", payload[:80])
            return
        task = self.loop.create_task(self._run(turn))
        self.tasks[turn.turn_id] = task
        task.add_done_callback(partial(self._forget, turn.turn_id))

    def _forget(self, turn_id: str, _: asyncio.Task[None]) -> None:
        self.tasks.pop(turn_id, None)  # room for another turn at once

    async def _run(self, turn: Turn) -> None:
        """Run one turn as arq would run its job: within the function's timeout, its failure
        logged and counted, never raised into the poll loop."""
        function = self.functions[keys.RUN_TURN_JOB]
        try:
            async with asyncio.timeout(function.timeout_s):
                await function.coroutine(self.ctx, turn)
        except asyncio.CancelledError:
            self.jobs_failed += 1
            raise
        except Exception:
            self.jobs_failed += 1
            logger.exception("turn %s failed in its worker", turn.turn_id)
        else:
            self.jobs_complete += 1

    async def record_health(self) -> None:
        """arq's health record (`arq --check`), with the queue read as the list it is."""
        now_s = time()
        if now_s - self._last_health_check < self.health_check_interval:
            return
        self._last_health_check = now_s
        ongoing = sum(not task.done() for task in self.tasks.values())
        queued = await self.pool.llen(self.queue_name)  # type: ignore[misc]
        info = (
            f"{datetime.now():%b-%d %H:%M:%S} j_complete={self.jobs_complete} "
            f"j_failed={self.jobs_failed} j_retried={self.jobs_retried} j_ongoing={ongoing} "
            f"queued={queued}"
        )
        await self.pool.psetex(
            self.health_check_key, int((self.health_check_interval + 1) * 1000), info.encode()
        )

    async def _sleep_until_tasks_complete(self) -> None:
        """What SIGTERM waits for (up to `WORKER_DRAIN_S`) before it cancels the poll loop: the
        running turns, and a pop in flight (at most `WORKER_IDLE_POLL_S`), whose turn goes back
        to the queue rather than dying with the cancelled call."""
        await super()._sleep_until_tasks_complete()
        await self._not_popping.wait()

    def handle_sig_wait_for_completion(self, signum: Signals) -> None:
        super().handle_sig_wait_for_completion(signum)
        runtime: WorkerRuntime | None = self.ctx.get("runtime")
        if runtime is not None:
            # Gateways stop counting on this worker for new turns at once; it still beats (as
            # draining) for the turns it finishes, so those are not taken for lost.
            runtime.heartbeat.drain()
