"""Quieting the reads chatkit leaves behind when a turn is cancelled.

`chatkit.agents.stream_agent_response` merges the run's events with the agent context's events by
keeping one pending `__anext__` task on each. When the turn is cancelled (the user's stop), the
merge is abandoned with both reads pending; once the run is cancelled and the context's queue
completed, each read ends with `StopAsyncIteration` that nobody retrieves, and asyncio logs two
"Task exception was never retrieved" errors for what is a normal stop. `WatchedRun` stands in for
the run result so the read on the run's events can be found; the read on the context's queue is
found by its queue. Each gets a callback that collects its ending, logging anything but the
expected `StopAsyncIteration`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, cast

from agents import StreamEvent
from agents.result import RunResultStreaming
from chatkit.agents import AgentContext

from services.agent.thought_events import with_thought_ends

logger = logging.getLogger(__name__)


class _WatchedEvents:
    """The run's events, remembering the task of the read in progress."""

    def __init__(self, events: AsyncIterator[StreamEvent]) -> None:
        self._events = events
        self.pending_read: asyncio.Task[Any] | None = None

    def __aiter__(self) -> _WatchedEvents:
        return self

    async def __anext__(self) -> StreamEvent:
        self.pending_read = asyncio.current_task()
        event = await anext(self._events)
        self.pending_read = None  # chatkit takes this result itself
        return event


class WatchedRun:
    """What `stream_agent_response` is given instead of the run result: it only calls
    `stream_events()` (whose thoughts end the way chatkit expects: `thought_events.py`)."""

    def __init__(self, result: RunResultStreaming) -> None:
        self._result = result
        self._events: _WatchedEvents | None = None

    def stream_events(self) -> AsyncIterator[StreamEvent]:
        self._events = _WatchedEvents(with_thought_ends(self._result.stream_events()))
        return self._events

    def as_result(self) -> RunResultStreaming:
        return cast(RunResultStreaming, self)

    def abandoned_reads(self, context: AgentContext[Any]) -> list[asyncio.Task[Any]]:
        """The reads chatkit's merge left pending on the run's and the context's events."""
        reads = []
        if self._events is not None and self._events.pending_read is not None:
            reads.append(self._events.pending_read)
        queue = context._events
        for task in asyncio.all_tasks():
            frame = getattr(task.get_coro(), "cr_frame", None)
            owner = frame.f_locals.get("self") if frame is not None else None
            if getattr(owner, "queue", None) is queue:
                reads.append(task)
        return [task for task in reads if task is not asyncio.current_task()]


def collect_when_done(reads: list[asyncio.Task[Any]]) -> None:
    for read in reads:
        read.add_done_callback(_collect)


def _collect(read: asyncio.Task[Any]) -> None:
    if read.cancelled():
        return
    error = read.exception()  # retrieved: asyncio no longer reports it
    if error is not None and not isinstance(error, StopAsyncIteration):
        logger.warning("an abandoned event read failed", exc_info=error)
