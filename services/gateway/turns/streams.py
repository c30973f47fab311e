"""Starting a turn's stream and re-joining one: admission, the thread's turn lock, the queue and
the relay, wired together once per gateway process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.exceptions import RedisError

from services.gateway.draining import DrainState
from services.gateway.turns.notifier import TurnEventNotifier
from services.gateway.turns.relay import (
    KEEPALIVE,
    RelayPolicy,
    TurnHooks,
    error_frame,
    relay_turn,
)
from shared.settings import Settings
from shared.turns.event_log import TurnEventLog
from shared.turns.messages import Turn
from shared.turns.queue import TurnQueue
from shared.turns.records import TurnRecords
from shared.turns.thread_lock import ThreadTurnLock
from shared.workers.registry import WorkerRegistry

logger = logging.getLogger(__name__)

BUSY_THREAD_MESSAGE = (
    "A reply is still being written in this conversation. "
    "Wait for it to finish (or stop it), then send your message again."
)
NO_LIVE_WORKER_MESSAGE = "The assistant is not available right now. Please try again in a moment."
QUEUE_FULL_MESSAGE = "The assistant is very busy right now. Please try again in a moment."
DRAINING_MESSAGE = "This server is restarting. Please try again in a moment."
QUEUE_UNREACHABLE_MESSAGE = "The assistant cannot be reached right now. Please try again shortly."
THREAD_WAIT_POLL_S = 0.1
"""With `MULTITASK=enqueue`, how often a waiting turn checks whether its thread is free."""


class TurnStreams:
    def __init__(
        self,
        settings: Settings,
        turns: TurnQueue,
        events: TurnEventLog,
        notifier: TurnEventNotifier,
        lock: ThreadTurnLock,
        records: TurnRecords,
        workers: WorkerRegistry,
        draining: DrainState,
    ) -> None:
        gateway, worker = settings.gateway, settings.worker
        self._turns = turns
        self._events = events
        self._notifier = notifier
        self._lock = lock
        self._records = records
        self._workers = workers
        self._draining = draining
        self._max_queue_depth = gateway.max_queue_depth
        self._wait_for_thread = gateway.multitask == "enqueue"
        # Held while queued (up to the start timeout), then kept alive by the worker's heartbeat.
        self._lock_ttl_s = gateway.turn_start_timeout_s + worker.liveness_ttl_s
        self._thread_wait_s = worker.turn_timeout_s + gateway.turn_start_timeout_s
        self.policy = RelayPolicy(
            start_timeout_s=gateway.turn_start_timeout_s,
            silence_limit_s=worker.liveness_ttl_s,
            keepalive_s=gateway.sse_heartbeat_s,
            cancel_on_disconnect=gateway.on_disconnect == "cancel",
        )

    async def start(self, turn: Turn) -> AsyncIterator[bytes]:
        """The SSE frames of a new turn: queued once admitted and its thread is free."""
        try:
            refusal = await self._admission_refusal()
            if refusal is None and turn.thread_id is not None:
                async for frame in self._take_thread(turn.thread_id, turn.turn_id):
                    yield frame
                    if frame is not KEEPALIVE:  # refused
                        return
        except RedisError as exc:
            logger.warning("turn %s not queued: %s", turn.turn_id, exc)
            refusal = QUEUE_UNREACHABLE_MESSAGE
        if refusal is not None:
            yield error_frame(refusal, allow_retry=True)
            return
        inbox = self._notifier.watch(turn.turn_id)  # before queueing: nothing published is missed
        try:
            await self._turns.enqueue(turn)
        except RedisError as exc:
            self._notifier.unwatch(turn.turn_id)
            logger.warning("turn %s not queued: %s", turn.turn_id, exc)
            await self._hooks(turn.turn_id, turn.thread_id).never_started()
            yield error_frame(QUEUE_UNREACHABLE_MESSAGE, allow_retry=True)
            return
        relay = relay_turn(
            turn.turn_id,
            inbox,
            self._events,
            self._notifier,
            self._hooks(turn.turn_id, turn.thread_id),
            self.policy,
        )
        # Closed with this generator (client gone), so the relay cancels the turn right away
        # rather than whenever the garbage collector finalizes it.
        async with contextlib.aclosing(relay) as frames:
            async for frame in frames:
                yield frame

    def rejoin(self, turn_id: str, thread_id: str | None, after_seq: int) -> AsyncIterator[bytes]:
        """The SSE frames of a running (or recently ended) turn after event `after_seq`."""
        inbox = self._notifier.watch(turn_id)
        return relay_turn(
            turn_id,
            inbox,
            self._events,
            self._notifier,
            self._hooks(turn_id, thread_id),
            self.policy,
            after_seq=after_seq,
        )

    async def _admission_refusal(self) -> str | None:
        """Why a new turn cannot be taken now (fail fast instead of waiting), or None."""
        if self._draining():
            return DRAINING_MESSAGE
        live, depth = await asyncio.gather(self._workers.live_count(), self._turns.depth())
        if live == 0:
            return NO_LIVE_WORKER_MESSAGE
        if depth >= self._max_queue_depth:
            logger.warning("turn refused: %d turns queued", depth)
            return QUEUE_FULL_MESSAGE
        return None

    async def _take_thread(self, thread_id: str, turn_id: str) -> AsyncIterator[bytes]:
        """Take the thread's turn lock. Yields keepalives while waiting for it
        (`MULTITASK=enqueue`), or one error frame when it cannot have it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._thread_wait_s
        next_keepalive = loop.time() + self.policy.keepalive_s
        while not await self._lock.acquire(thread_id, turn_id, self._lock_ttl_s):
            if not self._wait_for_thread or loop.time() >= deadline:
                yield error_frame(BUSY_THREAD_MESSAGE, allow_retry=True)
                return
            await asyncio.sleep(THREAD_WAIT_POLL_S)
            if loop.time() >= next_keepalive:
                next_keepalive = loop.time() + self.policy.keepalive_s
                yield KEEPALIVE

    def _hooks(self, turn_id: str, thread_id: str | None) -> TurnHooks:
        async def release_thread() -> None:
            if thread_id is not None:
                await self._lock.release(thread_id, turn_id)

        async def cancel() -> None:
            await self._turns.cancel(turn_id)

        async def never_started() -> None:
            try:
                await self._turns.cancel(turn_id)
                await release_thread()
            except RedisError as exc:
                logger.warning("turn %s: could not withdraw it: %s", turn_id, exc)

        async def worker_lost() -> None:
            try:
                await self._records.finished(turn_id, "failed", "worker lost")
                await release_thread()
            except Exception:
                logger.exception("turn %s: could not record its lost worker", turn_id)

        return TurnHooks(
            cancel=cancel,
            never_started=never_started,
            worker_lost=worker_lost,
            draining=self._draining,
        )
