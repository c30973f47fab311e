"""Relaying a turn's events from its Redis event log to the browser as Server-Sent Events.

Every log entry carries the sequence number the worker gave it. The relay passes each event on
exactly once and in order: a repeated number is dropped, a missing one ends the stream rather than
show the client a partial sequence. Each SSE event has an `id:` line (`<turn id>:<seq>`), so a
client that lost its connection can re-join with `Last-Event-ID` and get exactly the events it
missed (see `resume.py`).

The relay only relays: when the stream ends it says how (`outcome`), and its caller
(`streams.py`) settles the turn and tells the user, in one place.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Literal

from redis.exceptions import RedisError

from services.gateway.observability.metrics import TurnObservation
from services.gateway.turns.error_events import KEEPALIVE, sse_event
from services.gateway.turns.notifier import TurnEventNotifier, TurnInbox
from shared.turns.event_log import START, TurnEventLog
from shared.turns.messages import CANCELLED_END, TurnEvent
from shared.workers.registry import WorkerRegistry

logger = logging.getLogger(__name__)

READ_BATCH = 256
"""Entries per XREAD when the relay reads the log."""

RelayOutcome = Literal[
    "completed", "cancelled", "no_worker", "worker_lost", "gap", "log_lost", "client_gone"
]
"""How a relay ended: the turn's `end` (`completed`, or `cancelled` when the worker says so); no
worker took the turn in time; its worker went silent; an event is missing; the log could not be
read; or the client left first (the relay was closed before any of these)."""


@dataclass(frozen=True, slots=True)
class RelayPolicy:
    start_timeout_s: float
    """No `started` entry within this long: no worker took the turn."""
    silence_limit_s: float
    """A started turn silent this long has lost its worker, unless the worker still beats in the
    registry (its loop is busy: slow, not dead)."""
    keepalive_s: float
    """An SSE comment after this much silence keeps proxies from closing the stream."""
    busy_limit_s: float | None = None
    """A started turn silent this long has lost its worker even if the worker beats (its turn
    hangs): the turn's own time limit. None: the registry is not asked."""


def event_id(turn_id: str, seq: int) -> str:
    return f"{turn_id}:{seq}"


def _skips_a_number(entries: list[TurnEvent], expected_seq: int) -> bool:
    """True when `entries`, duplicates aside, do not continue from `expected_seq` unbroken."""
    for entry in entries:
        if entry.seq > expected_seq:
            return True
        if entry.seq == expected_seq:
            expected_seq += 1
    return False


class TurnRelay:
    """One stream's relay of one turn's events numbered above `after_seq`.

    `inbox` is `notifier.watch(turn_id)`, taken by the caller before it queued the turn, so no
    publication can slip by; the relay unwatches when it ends. Entries published to the inbox are
    relayed as they are; the log is read, a page at a time, at the start, to fill a gap in what
    was published, after a silence, after the notifier lost its subscription, and when the
    client reads so slowly that the inbox gave up holding entries for it: nothing depends on
    pub/sub alone, and a slow client costs bounded memory.
    """

    def __init__(
        self,
        turn_id: str,
        inbox: TurnInbox,
        events: TurnEventLog,
        notifier: TurnEventNotifier,
        policy: RelayPolicy,
        *,
        after_seq: int = 0,
        workers: WorkerRegistry | None = None,
    ) -> None:
        self.turn_id = turn_id
        self._workers = workers
        self._inbox = inbox
        self._events = events
        self._notifier = notifier
        self._policy = policy
        self._after_seq = after_seq
        self.outcome: RelayOutcome = "client_gone"
        """How the stream ended; `client_gone` until it ends otherwise."""

    async def frames(self) -> AsyncGenerator[bytes, None]:
        """The SSE frames of the turn's events, until its end (or another `outcome`): never
        hangs, whatever becomes of the worker or Redis."""
        turn_id, inbox, policy = self.turn_id, self._inbox, self._policy
        last_id = START  # how far the log has been read (published entries do not move it)
        expected_seq = 1
        started = False
        now = time.monotonic()
        start_deadline = now + policy.start_timeout_s
        last_seen = last_sent = now
        # Read the log at least this often without a publication (one may have been lost).
        wait_s = min(policy.silence_limit_s / 3, policy.keepalive_s)
        worker_id: str | None = None  # named by the `started` entry
        observed = TurnObservation()
        try:
            while True:
                entries = inbox.take()
                if inbox.read_log or _skips_a_number(entries, expected_seq):
                    inbox.read_log = False
                    try:
                        page = await self._events.read_page(turn_id, last_id, count=READ_BATCH)
                    except RedisError as exc:
                        logger.warning("turn %s: event log unreadable: %s", turn_id, exc)
                        self.outcome = "log_lost"
                        return
                    if page.events:
                        last_id = page.events[-1][0]
                    if page.full:
                        inbox.missed()  # more to read: the next round goes on from here, at once
                    # A worker logs entries before it publishes them, so what was just taken from
                    # the inbox is in this page or beyond it: the page alone is in order.
                    entries = [entry for _, entry in page.events]
                now = time.monotonic()
                # Everything taken at once goes out as one write: one ASGI send per batch, not
                # per event, is what lets one gateway relay tens of thousands of events a second.
                frames: list[bytes] = []
                for entry in entries:
                    if entry.seq < expected_seq:
                        continue  # already relayed (a duplicate append, or read and published)
                    if entry.seq > expected_seq:
                        logger.error(
                            "turn %s: event %d missing (got %d)", turn_id, expected_seq, entry.seq
                        )
                        self.outcome = "gap"  # for this client: the rest would be partial
                        break
                    expected_seq += 1
                    last_seen = now
                    if entry.kind == "event" and entry.seq > self._after_seq:
                        observed.relayed(entry.data)
                        frames.append(sse_event(event_id(turn_id, entry.seq), entry.data))
                    elif entry.kind == "started":
                        started = True
                        worker_id = entry.data.decode(errors="replace") or None
                        observed.picked_up()
                    elif entry.kind == "end":
                        self.outcome = "cancelled" if entry.data == CANCELLED_END else "completed"
                        break
                if frames:
                    last_sent = now
                    yield b"".join(frames)
                if self.outcome != "client_gone":
                    return
                if not started and now >= start_deadline:
                    logger.warning(
                        "turn %s was not picked up within %.1fs", turn_id, policy.start_timeout_s
                    )
                    self.outcome = "no_worker"
                    return
                if started and now - last_seen >= policy.silence_limit_s:
                    try:
                        busy = await self._busy(worker_id, now - last_seen)
                    except RedisError as exc:
                        logger.warning("turn %s: worker registry unreadable: %s", turn_id, exc)
                        self.outcome = "log_lost"
                        return
                    if not busy:
                        logger.warning("turn %s: worker silent for %.1fs", turn_id, now - last_seen)
                        self.outcome = "worker_lost"
                        return
                if now - last_sent >= policy.keepalive_s:
                    last_sent = now
                    yield KEEPALIVE
                if not await inbox.wait(wait_s):
                    inbox.read_log = True  # a silence: make sure no publication was lost
        finally:
            observed.outcome = self.outcome
            observed.finish()
            self._notifier.unwatch(turn_id)

    async def _busy(self, worker_id: str | None, silent_s: float) -> bool:
        """The turn is silent but its worker still beats, and not for longer than a turn may
        last: it is slow (a starved CPU delays its heartbeats), not gone."""
        limit_s = self._policy.busy_limit_s
        if self._workers is None or worker_id is None or limit_s is None or silent_s >= limit_s:
            return False
        return await self._workers.is_live(worker_id)
