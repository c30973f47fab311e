"""Relaying a turn's events from its Redis event log to the browser as Server-Sent Events."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

from chatkit.types import ErrorEvent

from services.gateway.observability.metrics import TurnObservation
from services.gateway.turn_events import TurnEventNotifier
from shared.turns.event_log import START, TurnEventLog
from shared.turns.queue import TurnQueue

logger = logging.getLogger(__name__)

KEEPALIVE = b": keepalive\n\n"
KEEPALIVE_EVERY_S = 15.0
"""Proxies close idle connections; a comment line now and then keeps the stream open."""
MISSED_HEARTBEATS = 3
"""A worker silent for this many heartbeat intervals is presumed dead."""

NO_WORKER_MESSAGE = "The assistant is not available right now. Please try again in a moment."
WORKER_LOST_MESSAGE = "The assistant stopped responding. Please try again."


async def _announced(news: asyncio.Event, timeout_s: float) -> bool:
    """Wait for news of the turn; False when the wait timed out."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(news.wait(), timeout=timeout_s)
    return news.is_set()


def sse_data(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def error_frame(message: str, *, allow_retry: bool) -> bytes:
    event = ErrorEvent(code="custom", message=message, allow_retry=allow_retry)
    return sse_data(event.model_dump_json(by_alias=True, exclude_none=True).encode())


async def relay_turn(
    turn_id: str,
    events: TurnEventLog,
    notifier: TurnEventNotifier,
    turns: TurnQueue,
    *,
    start_timeout_s: float,
    heartbeat_interval_s: float,
) -> AsyncIterator[bytes]:
    """Yield SSE frames for the turn until its `end` entry.

    Ends with an error event (never hangs) when no worker takes the turn in time or its worker
    stops heartbeating. If the client goes away first, the worker is told to cancel the turn.
    """
    last_id = START
    started = False
    ended = False
    now = time.monotonic()
    start_deadline = now + start_timeout_s
    last_seen = now
    last_sent = now
    silence_limit_s = heartbeat_interval_s * MISSED_HEARTBEATS
    # Read again at least this often even without an announcement (one may have been lost).
    wait_s = min(heartbeat_interval_s, KEEPALIVE_EVERY_S)
    news = notifier.watch(turn_id)
    observed = TurnObservation()
    try:
        while True:
            news.clear()  # before reading: an announcement from now on wakes the wait below
            entries = await events.read(turn_id, last_id)
            if not entries and await _announced(news, wait_s):
                continue
            now = time.monotonic()
            for entry_id, event in entries:
                last_id = entry_id
                last_seen = now
                if event.kind == "event":
                    last_sent = now
                    observed.relayed(event.data)
                    yield sse_data(event.data)
                elif event.kind == "started":
                    started = True
                    observed.picked_up()
                elif event.kind == "end":
                    ended = True
                    observed.outcome = "completed"
                    return
            if entries:
                continue
            if not started and now >= start_deadline:
                logger.warning("turn %s was not picked up within %.1fs", turn_id, start_timeout_s)
                observed.outcome = "no_worker"
                yield error_frame(NO_WORKER_MESSAGE, allow_retry=True)
                return
            if started and now - last_seen >= silence_limit_s:
                logger.warning("turn %s: worker silent for %.1fs", turn_id, now - last_seen)
                observed.outcome = "worker_lost"
                yield error_frame(WORKER_LOST_MESSAGE, allow_retry=True)
                return
            if now - last_sent >= KEEPALIVE_EVERY_S:
                last_sent = now
                yield KEEPALIVE
    finally:
        observed.finish()
        notifier.unwatch(turn_id)
        if not ended:
            # The client left (or we gave up): free the worker instead of letting the model run on.
            # Shielded so the cancellation that brought us here does not also cancel the notice.
            try:
                await asyncio.shield(turns.cancel(turn_id))
            except Exception:
                logger.exception("could not cancel abandoned turn %s", turn_id)
