"""Relaying a turn's events from its Redis event log to the browser as Server-Sent Events.

Every log entry carries the sequence number the worker gave it. The relay passes each event on
exactly once and in order: a repeated number is dropped, a missing one ends the stream with an
error rather than show the client a partial sequence. Each SSE event has an `id:` line
(`<turn id>:<seq>`), so a client that lost its connection can re-join with `Last-Event-ID` and get
exactly the events it missed (see `turn_resume.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass

from chatkit.types import ErrorEvent
from redis.exceptions import RedisError

from services.gateway.observability.metrics import TurnObservation
from services.gateway.turns.notifier import TurnEventNotifier, TurnInbox
from shared.turns.event_log import START, TurnEventLog
from shared.turns.messages import TurnEvent

logger = logging.getLogger(__name__)

KEEPALIVE = b": keepalive\n\n"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

NO_WORKER_MESSAGE = "The assistant is not available right now. Please try again in a moment."
WORKER_LOST_MESSAGE = "The assistant stopped responding. Please try again."
CONNECTION_LOST_MESSAGE = "The connection to the assistant was lost. Please try again."
READ_BATCH = 256
"""Entries per XREAD when the relay reads the log."""

GAP_MESSAGE = "Part of the answer was lost on the way. Reload the conversation to see it."


@dataclass(frozen=True, slots=True)
class RelayPolicy:
    start_timeout_s: float
    """No `started` entry within this long: no worker took the turn."""
    silence_limit_s: float
    """A started turn silent this long has lost its worker."""
    keepalive_s: float
    """An SSE comment after this much silence keeps proxies from closing the stream."""
    cancel_on_disconnect: bool
    """Cancel the turn when the client goes away (`ON_DISCONNECT=cancel`)."""


@dataclass(frozen=True, slots=True)
class TurnHooks:
    """What the relay does to its turn when the stream ends early."""

    cancel: Callable[[], Awaitable[None]]
    """The client left: stop the turn (the worker saves what was streamed)."""
    never_started: Callable[[], Awaitable[None]]
    """No worker took the turn in time: make sure none runs it later, and free its thread."""
    worker_lost: Callable[[], Awaitable[None]]
    """The worker went silent: record the turn as failed and free its thread."""
    draining: Callable[[], bool]
    """True while this gateway shuts down: a stream cut then is not the client leaving (it may
    re-join through another gateway), so the turn is left to finish."""


def sse_event(event_id: str, payload: bytes) -> bytes:
    return b"id: " + event_id.encode() + b"\ndata: " + payload + b"\n\n"


def error_frame(message: str, *, allow_retry: bool) -> bytes:
    event = ErrorEvent(code="custom", message=message, allow_retry=allow_retry)
    return b"data: " + event.model_dump_json(by_alias=True, exclude_none=True).encode() + b"\n\n"


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


async def relay_turn(
    turn_id: str,
    inbox: TurnInbox,
    events: TurnEventLog,
    notifier: TurnEventNotifier,
    hooks: TurnHooks,
    policy: RelayPolicy,
    *,
    after_seq: int = 0,
) -> AsyncGenerator[bytes, None]:
    """Yield SSE frames for the turn's events numbered above `after_seq`, until its `end` entry.

    `inbox` is `notifier.watch(turn_id)`, taken by the caller before it queued the turn, so no
    publication can slip by; the relay unwatches when it ends. Entries published to the inbox are
    relayed as they are; the log is read, a page at a time, at the start, to fill a gap in what
    was published, after a silence, after the notifier lost its subscription, and when the
    client reads so slowly that the inbox gave up holding entries for it: nothing depends on
    pub/sub alone, and a slow client costs bounded memory.

    Ends with an error event (never hangs) when no worker takes the turn in time, its worker stops
    heartbeating, or Redis fails. If the client goes away first, the turn is cancelled (by policy).
    """
    last_id = START  # how far the log has been read (published entries do not move it)
    expected_seq = 1
    started = False
    ended = False
    now = time.monotonic()
    start_deadline = now + policy.start_timeout_s
    last_seen = last_sent = now
    # Read the log at least this often without a publication (one may have been lost).
    wait_s = min(policy.silence_limit_s / 3, policy.keepalive_s)
    observed = TurnObservation()
    try:
        while True:
            entries = inbox.take()
            if inbox.read_log or _skips_a_number(entries, expected_seq):
                inbox.read_log = False
                try:
                    page = await events.read(turn_id, last_id, count=READ_BATCH)
                except RedisError as exc:
                    logger.warning("turn %s: event log unreadable: %s", turn_id, exc)
                    ended = True  # nothing more can be done for this turn from here
                    yield error_frame(CONNECTION_LOST_MESSAGE, allow_retry=True)
                    return
                if page:
                    last_id = page[-1][0]
                if len(page) == READ_BATCH:
                    inbox.missed()  # more to read: the next round goes on from here, at once
                # A worker logs entries before it publishes them, so what was just taken from
                # the inbox is in this page or beyond it: the page alone is in order.
                entries = [entry for _, entry in page]
            now = time.monotonic()
            # Everything taken at once goes out as one write: one ASGI send per batch, not per
            # event, is what lets one gateway relay tens of thousands of events a second.
            frames: list[bytes] = []
            for entry in entries:
                if entry.seq < expected_seq:
                    continue  # already relayed (a duplicate append, or read and published)
                if entry.seq > expected_seq:
                    logger.error(
                        "turn %s: event %d missing (got %d)", turn_id, expected_seq, entry.seq
                    )
                    frames.append(error_frame(GAP_MESSAGE, allow_retry=False))
                    ended = True  # for this client: the rest would be a partial sequence
                    break
                expected_seq += 1
                last_seen = now
                if entry.kind == "event" and entry.seq > after_seq:
                    observed.relayed(entry.data)
                    frames.append(sse_event(event_id(turn_id, entry.seq), entry.data))
                elif entry.kind == "started":
                    started = True
                    observed.picked_up()
                elif entry.kind == "end":
                    ended = True
                    observed.outcome = "completed"
                    break
            if frames:
                last_sent = now
                yield b"".join(frames)
            if ended:
                return
            if not started and now >= start_deadline:
                logger.warning(
                    "turn %s was not picked up within %.1fs", turn_id, policy.start_timeout_s
                )
                ended = True
                observed.outcome = "no_worker"
                await hooks.never_started()
                yield error_frame(NO_WORKER_MESSAGE, allow_retry=True)
                return
            if started and now - last_seen >= policy.silence_limit_s:
                logger.warning("turn %s: worker silent for %.1fs", turn_id, now - last_seen)
                ended = True
                observed.outcome = "worker_lost"
                await hooks.worker_lost()
                yield error_frame(WORKER_LOST_MESSAGE, allow_retry=True)
                return
            if now - last_sent >= policy.keepalive_s:
                last_sent = now
                yield KEEPALIVE
            if not await inbox.wait(wait_s):
                inbox.read_log = True  # a silence: make sure no publication was lost
    finally:
        observed.finish()
        notifier.unwatch(turn_id)
        if not ended and policy.cancel_on_disconnect and not hooks.draining():
            # The client left (or the turn never started): free the worker instead of letting
            # the model run on. Shielded so the cancellation that brought us here does not also
            # cancel the notice.
            try:
                await asyncio.shield(hooks.cancel())
            except Exception:
                logger.exception("could not cancel abandoned turn %s", turn_id)
