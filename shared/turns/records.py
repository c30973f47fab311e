"""What became of each turn, in Postgres: started, completed, failed or cancelled.

Redis holds a turn only while it streams; this is the durable record an operator (or a support
question) reads afterwards, and what a gateway corrects when the turn's worker died mid-way.

A worker writes its turn's record with the turn's first statement (normally with the user's
message, see `shared/store/turn_writes.py`) and closes it with the turn's last (`close`), so a turn
whose worker died before its first statement has no record unless a gateway saw it lost (`lost`):
nothing else of it was stored either.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from shared.db.pool import DbPool
from shared.db.user_scope import all_users_transaction, user_transaction
from shared.store.turn_store import TurnContext
from shared.store.turn_writes import TurnClose, write_turn
from shared.usage.repository import TurnUsage

TurnStatus = Literal["running", "completed", "failed", "cancelled"]
WORKER_LOST = "worker lost"
"""The failure of a turn whose worker stopped heartbeating mid-turn."""


class TurnRecord(msgspec.Struct, frozen=True, kw_only=True):
    turn_id: str
    user_id: str
    thread_id: str | None
    status: TurnStatus
    error: str | None


_CLOSE = (
    "UPDATE turns SET status = $2, error = $3, finished_at = now()"
    " WHERE turn_id = $1 AND status = 'running'"
)
"""A record already closed (e.g. marked failed by a gateway) stays as it is."""

# A worker that died before its first statement left no record: the gateway that saw it lost
# writes one (when it was queued is not known here: now stands for it).
_LOST = (
    "INSERT INTO turns (turn_id, user_id, thread_id, status, error, queued_at, finished_at)"
    " VALUES ($1, $2, $3, 'failed', $4, now(), now())"
    " ON CONFLICT (turn_id) DO UPDATE"
    " SET status = 'failed', error = excluded.error, finished_at = excluded.finished_at"
    " WHERE turns.status = 'running' AND turns.user_id = excluded.user_id"
)


class TurnRecords:
    def __init__(self, pool: DbPool) -> None:
        self._pool = pool

    async def failed(self, turn_id: str, reason: str) -> None:
        """Close a running turn's record as failed, by turn id alone (a worker's sweep of turns
        whose worker died); a record already closed stays as it is."""
        async with all_users_transaction(self._pool) as conn:
            await conn.execute(_CLOSE, turn_id, "failed", reason)

    async def close(
        self,
        turn: TurnContext,
        status: Literal["completed", "failed", "cancelled"],
        error: str | None,
        usage: TurnUsage | None,
    ) -> None:
        """Close the record of a turn this worker ran, in one statement with what the turn still
        holds (`turn.writes`) and its `usage`; the record is inserted if the turn wrote nothing
        before. `NotFoundError` (nothing written) when the held writes' thread is gone."""
        writes = turn.writes
        if writes.record is None:
            raise ValueError("this turn context keeps no record")
        batch = writes.batch()
        async with user_transaction(self._pool, turn.user_id) as conn:
            await write_turn(
                conn, turn.user_id, turn.reads.thread_id, batch,
                close=TurnClose(status, error, usage), start=writes.record,
            )  # fmt: skip
        writes.written(batch)

    async def lost(self, turn_id: str, user_id: str, thread_id: str | None) -> None:
        """Close as failed (`WORKER_LOST`) a turn whose worker stopped heartbeating, recording
        it if its worker died before its first statement."""
        async with user_transaction(self._pool, user_id) as conn:
            await conn.execute(_LOST, turn_id, user_id, thread_id, WORKER_LOST)

    async def running_since(self, seconds: float) -> list[str]:
        """Ids of turns recorded as running that started more than `seconds` ago."""
        async with all_users_transaction(self._pool) as conn:  # housekeeping, across users
            rows = await conn.fetch(
                "SELECT turn_id FROM turns WHERE status = 'running'"
                " AND started_at < now() - make_interval(secs => $1)",
                seconds,
            )
        return [row["turn_id"] for row in rows]

    async def get(self, turn_id: str, user_id: str) -> TurnRecord | None:
        async with user_transaction(self._pool, user_id) as conn:
            row = await conn.fetchrow(
                "SELECT turn_id, user_id, thread_id, status, error FROM turns"
                " WHERE turn_id = $1 AND user_id = $2",
                turn_id,
                user_id,
            )
        return None if row is None else TurnRecord(**dict(row))
