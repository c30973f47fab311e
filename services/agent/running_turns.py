"""The turns this worker process is running, so a cancel request can reach the right task and
the heartbeat thread can keep what each holds."""

from __future__ import annotations

import asyncio
import time

from shared.turns.messages import Turn


class RunningTurns:
    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._started_at: dict[str, float] = {}
        self._turns: dict[str, Turn] = {}
        self._cancel_requested: set[str] = set()

    def add(self, turn: Turn, task: asyncio.Task[None]) -> None:
        self._tasks[turn.turn_id] = task
        self._started_at[turn.turn_id] = time.time()
        self._turns[turn.turn_id] = turn

    def remove(self, turn_id: str) -> None:
        self._tasks.pop(turn_id, None)
        self._started_at.pop(turn_id, None)
        self._turns.pop(turn_id, None)
        self._cancel_requested.discard(turn_id)

    def cancel(self, turn_id: str) -> bool:
        """Cancel the turn if it runs here; True when it did."""
        task = self._tasks.get(turn_id)
        if task is None or task.done():
            return False
        self._cancel_requested.add(turn_id)
        task.cancel()
        return True

    def was_cancelled_by_client(self, turn_id: str) -> bool:
        return turn_id in self._cancel_requested

    def snapshot(self) -> tuple[int, tuple[str, float] | None]:
        """How many turns run here, and the longest-running one with when it started (epoch
        seconds), if any. Safe from another thread (the heartbeat's): it reads a copy, which
        CPython makes without letting another thread in."""
        started_at = self._started_at.copy()
        if not started_at:
            return 0, None
        turn_id = min(started_at, key=started_at.__getitem__)
        return len(started_at), (turn_id, started_at[turn_id])

    def turns(self, started_before: float) -> list[Turn]:
        """The turns running since before `started_before` (epoch seconds); safe from another
        thread, like `snapshot`."""
        started_at = self._started_at.copy()
        return [
            turn
            for turn_id, turn in self._turns.copy().items()
            if started_at.get(turn_id, started_before) < started_before
        ]

    def __len__(self) -> int:
        return len(self._tasks)
