"""The arq worker that pulls turns off the queue.

arq polls its queue every `poll_delay` (0.5 s by default), which would be added to every answer's
time to first token. Instead the worker polls with no delay and, between polls, blocks on a wake-up
list the gateway pushes to after each enqueue (BLPOP, bounded by `idle_poll_s`): an idle worker
starts a queued turn within a Redis round trip or two, and an idle worker costs one blocking call
per `idle_poll_s` rather than a busy loop.

arq's loop stops the process at the first Redis error; ours waits and retries instead, so a worker
outlives a Redis restart. On SIGTERM the worker leaves the registry of live workers, takes no new
turns and gives running ones `WORKER_DRAIN_S` to finish (arq's `job_completion_wait`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from signal import Signals
from typing import Any

from arq.connections import RedisSettings as ArqRedisSettings
from arq.utils import timestamp_ms
from arq.worker import Worker, func
from redis.exceptions import RedisError

from services.agent.runtime import WorkerRuntime, open_runtime
from shared.observability.log_context import log_context
from shared.settings import Settings
from shared.turns import keys
from shared.turns.messages import decode_turn
from shared.turns.queue import JobClaim

logger = logging.getLogger(__name__)

REDIS_RETRY_S = 0.5
"""Pause between attempts to reach Redis while it is down."""


async def run_turn(ctx: dict[str, Any], payload: bytes) -> None:
    runtime: WorkerRuntime = ctx["runtime"]
    turn = decode_turn(payload)
    with log_context(turn_id=turn.turn_id, user_id=turn.user_id), runtime.tracing.running(turn):
        await runtime.runner.run(turn)


async def on_startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx["settings"]
    opened = contextlib.AsyncExitStack()
    ctx["runtime"] = await opened.enter_async_context(open_runtime(settings, ctx["redis"]))
    ctx["opened"] = opened


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
                    # A turn is not retried by arq: a rerun would repeat tool calls (two tasks
                    # instead of one). A lost turn is reported to the user, who may retry it.
                    max_tries=1,
                    # Longer than our own turn timeout, so ours fires first and tells the user.
                    timeout=worker.turn_timeout_s + 30,
                    keep_result=0,
                )
            ],
            queue_name=keys.TURN_QUEUE,
            redis_settings=ArqRedisSettings.from_dsn(settings.redis.url),
            max_jobs=worker.max_concurrent_turns,
            poll_delay=0,
            keep_result=0,
            on_startup=on_startup,
            on_shutdown=on_shutdown,
            ctx={"settings": settings},
            job_completion_wait=math.ceil(worker.drain_s),
            **kwargs,
        )
        self.idle_poll_s = worker.idle_poll_s
        self._claim: JobClaim | None = None

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
            if not self.allow_pick_jobs:  # draining: nothing to wait for
                await asyncio.sleep(self.idle_poll_s)
                return
            # Wait for the next enqueue (or the idle bound) instead of a fixed poll delay.
            # (A raw command: redis-py's typing of BLPOP wants whole seconds; Redis takes
            # fractions.)
            await self.pool.execute_command("BLPOP", keys.WORKER_WAKEUP, self.idle_poll_s)  # type: ignore[no-untyped-call]
        except RedisError as exc:
            # redis-py reconnects on the next command; running turns fail on their own.
            logger.warning("Redis unavailable (%s); retrying in %.1fs", exc, REDIS_RETRY_S)
            await asyncio.sleep(REDIS_RETRY_S)

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's `start_jobs`, with each job claimed in one script instead of four round trips
        (WATCH, EXISTS, ZSCORE, MULTI/EXEC): this is on the way to every answer's first token."""
        if self._claim is None:
            self._claim = JobClaim(self.pool, self.queue_name)
        for job_id_b in job_ids:
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return
            self.job_counter += 1
            job_id = job_id_b.decode()
            score = await self._claim.claim(
                job_id, timestamp_ms(), int(self.in_progress_timeout_s * 1000)
            )
            if score is None:  # taken by another worker, finished, or not due yet
                self.job_counter -= 1
                self.sem.release()
                continue
            task = self.loop.create_task(self.run_job(job_id, score))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task

    def handle_sig_wait_for_completion(self, signum: Signals) -> None:
        super().handle_sig_wait_for_completion(signum)
        runtime: WorkerRuntime | None = self.ctx.get("runtime")
        if runtime is not None:
            runtime.heartbeat.cancel()  # gateways stop counting on this worker at once
