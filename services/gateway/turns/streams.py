"""A turn's stream, from its admission ticket (or a re-join) to its end, and what that end means
for the turn: settled here, in one place, whatever the end was (the answer's end, a cancel, no
worker, a lost worker, a departed client)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TypeVar

import msgspec
from redis.exceptions import RedisError

from services.gateway.draining import DrainState
from services.gateway.turns import error_events
from services.gateway.turns.admission import Ticket, TurnAdmission
from services.gateway.turns.error_events import KEEPALIVE, cancelled_frame, error_frame
from services.gateway.turns.notifier import TurnEventNotifier
from services.gateway.turns.relay import RelayOutcome, RelayPolicy, TurnRelay
from services.gateway.turns.stream_slots import RidingLease, StreamLease, StreamLeases
from shared.settings import Settings
from shared.turns.event_log import TurnEventLog
from shared.turns.holds import TurnHolds
from shared.turns.queue import TurnQueue
from shared.turns.records import TurnRecords
from shared.workers.registry import WorkerRegistry

logger = logging.getLogger(__name__)

T = TypeVar("T")

THREAD_WAIT_POLL_S = 0.1
"""With `MULTITASK=enqueue`, how often a waiting turn checks whether its thread is free."""


@dataclass(frozen=True, slots=True)
class _Stream:
    """One stream of one turn, and what it holds."""

    turn_id: str
    user_id: str
    thread_id: str | None
    slot: StreamLease | RidingLease
    turns_own_slot: bool
    """The slot is the turn's (taken at admission), not one of a re-join's."""
    day_counter: str | None = None
    """Where the turn's message was counted, for a stream that may give it back."""


class TurnStreams:
    def __init__(
        self,
        settings: Settings,
        admission: TurnAdmission,
        queue: TurnQueue,
        events: TurnEventLog,
        notifier: TurnEventNotifier,
        holds: TurnHolds,
        records: TurnRecords,
        slots: StreamLeases,
        draining: DrainState,
        workers: WorkerRegistry,
    ) -> None:
        gateway, worker = settings.gateway, settings.worker
        self._admission = admission
        self._queue = queue
        self._events = events
        self._notifier = notifier
        self._holds = holds
        self._records = records
        self._slots = slots
        self._draining = draining
        self._workers = workers
        self._cancel_on_disconnect = gateway.on_disconnect == "cancel"
        self._thread_wait_s = worker.turn_timeout_s + gateway.turn_start_timeout_s
        self.policy = RelayPolicy(
            start_timeout_s=gateway.turn_start_timeout_s,
            silence_limit_s=worker.liveness_ttl_s,
            keepalive_s=gateway.sse_heartbeat_s,
            busy_limit_s=worker.turn_timeout_s,
        )

    async def start(self, ticket: Ticket) -> AsyncIterator[bytes]:
        """The SSE frames of an admitted turn: it waits for its thread and is queued if the
        admission did not queue it, is relayed, and settled when its stream ends."""
        turn = ticket.turn
        stream = _Stream(
            turn.turn_id,
            turn.user_id,
            turn.thread_id,
            self._slots.held(turn.user_id, turn.turn_id),
            turns_own_slot=True,
            day_counter=ticket.day_counter,
        )
        renewing = asyncio.create_task(stream.slot.keep_alive())
        queued = not ticket.waits_for_thread  # the admission queued it
        try:
            if queued:
                inbox = self._notifier.watch(turn.turn_id)  # its first entries: from the log
            else:
                async for frame in self._wait_for_thread(ticket):
                    yield frame
                    if frame is not KEEPALIVE:  # gave up
                        return
                inbox = self._notifier.watch(turn.turn_id)  # before queueing: nothing is missed
                try:
                    # Not the thread as the gateway read it before waiting: the turn it waited
                    # for may have changed it (its title).
                    await self._queue.enqueue(msgspec.structs.replace(turn, thread_data=None))
                except RedisError as exc:
                    self._notifier.unwatch(turn.turn_id)
                    logger.warning("turn %s not queued: %s", turn.turn_id, exc)
                    yield error_frame(error_events.QUEUE_UNREACHABLE)
                    return
                queued = True
            relay = TurnRelay(
                turn.turn_id, inbox, self._events, self._notifier, self.policy,
                workers=self._workers,
            )  # fmt: skip
            async with contextlib.aclosing(self._relay(relay, stream)) as frames:
                async for frame in frames:
                    yield frame
        finally:
            renewing.cancel()
            if not queued:  # refused while waiting, or the client left before it was queued
                await _shielded(self._admission.give_back(ticket), "give back its ticket")

    async def rejoin(
        self,
        turn_id: str,
        user_id: str,
        thread_id: str | None,
        after_seq: int,
        *,
        news_channel: str | None = None,
    ) -> AsyncIterator[bytes]:
        """The SSE frames of a running (or recently ended) turn after event `after_seq`, for its
        author. A re-join takes a stream slot while it relays (or rides on its turn's, see
        `stream_slots.py`); `TooManyRequestsError` when the user has none left. `news_channel`
        is where the turn's worker publishes (the channel of the gateway that queued it)."""
        slot = await self._slots.acquire_rejoin(user_id, turn_id)
        stream = _Stream(turn_id, user_id, thread_id, slot, turns_own_slot=False)
        return self._rejoin(stream, after_seq, news_channel)

    async def _rejoin(
        self, stream: _Stream, after_seq: int, news_channel: str | None
    ) -> AsyncIterator[bytes]:
        renewing = asyncio.create_task(stream.slot.keep_alive())
        try:
            inbox = self._notifier.watch(stream.turn_id)
            try:
                await self._notifier.watch_channel(stream.turn_id, news_channel)
            except RedisError as exc:  # the relay reads the log after a silence instead
                logger.warning(
                    "turn %s: cannot listen on %s: %s", stream.turn_id, news_channel, exc
                )
            relay = TurnRelay(
                stream.turn_id, inbox, self._events, self._notifier, self.policy,
                after_seq=after_seq, workers=self._workers,
            )  # fmt: skip
            async with contextlib.aclosing(self._relay(relay, stream)) as frames:
                async for frame in frames:
                    yield frame
        finally:
            renewing.cancel()
            await _shielded(stream.slot.release(), "release a re-join's stream slot")

    async def _relay(self, relay: TurnRelay, stream: _Stream) -> AsyncGenerator[bytes, None]:
        ended = False
        try:
            # Closed with this generator (client gone), so the relay stops right away rather
            # than whenever the garbage collector finalizes it (so are the generators above).
            async with contextlib.aclosing(relay.frames()) as frames:
                async for frame in frames:
                    yield frame
            ended = True
        finally:
            if not ended:
                await _shielded(self._settle("client_gone", stream), "settle a departed client")
        last = await _shielded(self._settle(relay.outcome, stream), "settle its end")
        if last is not None:
            yield last

    async def _settle(self, outcome: RelayOutcome, stream: _Stream) -> bytes | None:
        """What the end of a stream means for its turn; the frame telling the user, if any."""
        match outcome:
            case "completed":
                # The worker freed the thread and the turn's slot before it logged the end.
                return None
            case "cancelled":
                return cancelled_frame()
            case "no_worker":
                # Make sure no worker runs it later, and give back what it took.
                await self._queue.cancel(stream.turn_id)
                await self._holds.release(
                    stream.turn_id, stream.user_id, stream.thread_id, message_of=stream.day_counter
                )
                return error_frame(error_events.NO_WORKER)
            case "worker_lost":
                await self._records.lost(stream.turn_id, stream.user_id, stream.thread_id)
                await self._holds.release(stream.turn_id, stream.user_id, stream.thread_id)
                return error_frame(error_events.WORKER_LOST)
            case "gap":
                return error_frame(error_events.GAP)  # the turn goes on: a reload shows it
            case "log_lost":
                return error_frame(error_events.CONNECTION_LOST)
            case "client_gone":
                # A stream cut by this gateway's shutdown is not the client leaving: it may
                # re-join through another gateway, so the turn is left to finish.
                if self._cancel_on_disconnect and not self._draining():
                    await self._queue.cancel(stream.turn_id)  # frees the worker
                    if stream.turns_own_slot:
                        await stream.slot.release()
                # Otherwise the turn runs on and keeps its slot; its worker gives it back.
                return None

    async def _wait_for_thread(self, ticket: Ticket) -> AsyncIterator[bytes]:
        """Take the thread's lock for a turn that waits for it (`MULTITASK=enqueue`): yields
        keepalives while waiting, or one error frame when it gives up."""
        turn = ticket.turn
        assert turn.thread_id is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._thread_wait_s
        next_keepalive = loop.time() + self.policy.keepalive_s
        lock_ttl_s = self._admission.limits.lock_ttl_s
        while not await self._holds.take_thread(turn.thread_id, turn.turn_id, lock_ttl_s):
            if loop.time() >= deadline:
                yield error_frame(error_events.BUSY_THREAD)
                return
            await asyncio.sleep(THREAD_WAIT_POLL_S)
            if loop.time() >= next_keepalive:
                next_keepalive = loop.time() + self.policy.keepalive_s
                yield KEEPALIVE


async def _shielded(work: Awaitable[T], what: str) -> T | None:
    """Run `work` to its end even when the stream's task is being cancelled (Litestar's (anyio)
    cancellation on a client's disconnect would cancel every further await: the await is, the
    shielded work goes on); None if it fails: what it could not do expires on its own."""
    try:
        return await asyncio.shield(work)
    except (OSError, RedisError) as exc:
        logger.warning("could not %s: %s", what, exc)
    except Exception:
        logger.exception("could not %s", what)
    return None
