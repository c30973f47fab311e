"""The turns this worker process is running, so a cancel request can reach the right task and
the heartbeat thread can keep what each holds."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from shared.turns.messages import Turn


@dataclass(frozen=True, slots=True)
class _Running:
    turn: Turn
    task: asyncio.Task[None]
    started_at: float
    """Epoch seconds."""


class RunningTurns:
    def __init__(self) -> None:
        # One entry per turn, so the heartbeat thread's copy is never half of one and half of
        # another (CPython copies a dict without letting another thread in).
        self._running: dict[str, _Running] = {}
        self._cancel_requested: set[str] = set()

    def add(self, turn: Turn, task: asyncio.Task[None]) -> None:
        self._running[turn.turn_id] = _Running(turn, task, time.time())

    def remove(self, turn_id: str) -> None:
        self._running.pop(turn_id, None)
        self._cancel_requested.discard(turn_id)

    def cancel(self, turn_id: str) -> bool:
        """Cancel the turn if it runs here; True when it did."""
        running = self._running.get(turn_id)
        if running is None or running.task.done():
            return False
        self._cancel_requested.add(turn_id)
        running.task.cancel()
        return True

    def was_cancelled_by_client(self, turn_id: str) -> bool:
        return turn_id in self._cancel_requested

    def snapshot(self) -> tuple[int, tuple[str, float] | None]:
        """How many turns run here, and the longest-running one with when it started (epoch
        seconds), if any. Safe from another thread (the heartbeat's): it reads a copy."""
        running = list(self._running.copy().values())
        if not running:
            return 0, None
        oldest = min(running, key=lambda r: r.started_at)
        return len(running), (oldest.turn.turn_id, oldest.started_at)

    def turns(self, started_before: float) -> list[Turn]:
        """The turns running since before `started_before` (epoch seconds); safe from another
        thread, like `snapshot`."""
        return [r.turn for r in self._running.copy().values() if r.started_at < started_before]

    def __len__(self) -> int:
        return len(self._running)
