"""Letting a new turn in, or not, in one place.

`admit` checks that this gateway is not draining, then, in one Redis script, that the user has a
stream slot and a message left today, that a worker is alive, that the queue has room and that
the thread is free; and takes the slot, the message and the thread's lock, and queues the turn,
only if all of that holds. A refused turn has taken nothing. A ticket says what was taken, so
`give_back` returns exactly that when the turn is not queued after all (it waited for its thread
in vain, Redis failed) or no worker ever started it. How a refusal is answered is decided in
`refusals.py`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import msgspec
from chatkit.types import StreamingReq, ThreadsCustomActionReq

from services.gateway.draining import DrainState
from services.gateway.quotas.daily_messages import day_counter, quota_exhausted
from services.gateway.turns import error_events
from services.gateway.turns.stream_slots import RETRY_AFTER_S, too_many_streams
from shared.settings import Settings
from shared.turns.holds import TurnHolds, TurnLimits
from shared.turns.messages import Turn
from shared.turns.queue import TurnQueue
from shared.workers.registry import WORKERS, WorkerRegistry

RefusalReason = Literal[
    "draining", "streams", "daily_quota", "no_worker", "queue_full", "busy_thread"
]

BUSY_THREAD_RETRY_S = 2
"""Most answers finish within seconds."""


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: RefusalReason
    message: str
    retry_after_s: int


@dataclass(frozen=True, slots=True)
class Ticket:
    """An admitted turn and what it took."""

    turn: Turn
    day_counter: str | None
    """The counter its message was counted in, or None for a turn that uses none."""
    waits_for_thread: bool
    """Another turn holds the thread (`MULTITASK=enqueue`): the turn must take the lock itself,
    then be queued. Otherwise it holds the lock (or has no thread yet) and is queued already."""


def uses_a_message(parsed: StreamingReq) -> bool:
    """Widget button presses (custom actions) make no model call, so they are free."""
    return not isinstance(parsed, ThreadsCustomActionReq)


class TurnAdmission:
    def __init__(
        self,
        settings: Settings,
        holds: TurnHolds,
        workers: WorkerRegistry,
        draining: DrainState,
        queue: TurnQueue,
        news_channel: str,
    ) -> None:
        gateway, worker, limits = settings.gateway, settings.worker, settings.limits
        self._holds = holds
        self._queue = queue
        self._news_channel = news_channel
        self._workers = workers
        self._draining = draining
        self._wait_for_thread = gateway.multitask == "enqueue"
        self.limits = TurnLimits(
            streams_per_user=limits.concurrent_streams,
            slot_lease_s=limits.stream_lease_s,
            messages_per_day=limits.daily_messages,
            max_queue_depth=gateway.max_queue_depth,
            # Held while queued (up to the start timeout), then kept alive by the worker.
            lock_ttl_s=gateway.turn_start_timeout_s + worker.liveness_ttl_s,
        )

    async def admit(self, turn: Turn, *, counts_a_message: bool) -> Ticket | Refusal:
        """A ticket for `turn`, queued unless it waits for its thread, or why it cannot be taken
        now (having taken nothing). `RedisError` when Redis cannot be asked (nothing taken
        either)."""
        if self._draining():
            return Refusal("draining", error_events.DRAINING.message, RETRY_AFTER_S)
        # Its worker publishes the turn's entries to this gateway alone.
        turn = msgspec.structs.replace(turn, news_channel=self._news_channel)
        now = datetime.now(UTC)
        counter = day_counter(turn.user_id, now)
        result = await self._holds.take(
            turn_id=turn.turn_id,
            user_id=turn.user_id,
            thread_id=turn.thread_id,
            day_counter=counter,
            uses_a_message=counts_a_message,
            workers_key=WORKERS,
            live_since_s=time.time() - self._workers.ttl_s,
            limits=self.limits,
            wait_for_thread=self._wait_for_thread,
            queue=self._queue.prepare(turn),
        )
        match result:
            case "taken" | "none" | "wait":
                return Ticket(turn, counter if counts_a_message else None, result == "wait")
            case "streams":
                limit = too_many_streams(self.limits.streams_per_user)
                return Refusal("streams", limit.detail, limit.retry_after_s)
            case "daily_quota":
                quota = quota_exhausted(self.limits.messages_per_day, now)
                return Refusal("daily_quota", quota.detail, quota.retry_after_s)
            case "no_worker":
                return Refusal("no_worker", error_events.NO_WORKER.message, RETRY_AFTER_S)
            case "queue_full":
                return Refusal("queue_full", error_events.QUEUE_FULL.message, RETRY_AFTER_S)
            case "busy_thread":
                return Refusal("busy_thread", error_events.BUSY_THREAD.message, BUSY_THREAD_RETRY_S)

    async def give_back(self, ticket: Ticket) -> None:
        """Return what `ticket` took: its slot, its thread's lock if it holds it, its message."""
        turn = ticket.turn
        await self._holds.release(
            turn.turn_id, turn.user_id, turn.thread_id, message_of=ticket.day_counter
        )
