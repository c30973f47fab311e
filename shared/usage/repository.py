"""Recording and summing the tokens and tool calls each turn used."""

from __future__ import annotations

from datetime import date, timedelta

import msgspec

from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb, all_users_transaction


class TurnUsage(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    thread_id: str
    turn_id: str | None
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    tool_calls: int = 0


class UsageTotals(msgspec.Struct, frozen=True):
    turns: int
    requests: int
    input_tokens: int
    output_tokens: int


class DailyUsage(msgspec.Struct, frozen=True, kw_only=True):
    """One user's usage on one day (UTC)."""

    day: date
    user_id: str
    turns: int
    requests: int
    input_tokens: int
    output_tokens: int
    tool_calls: int


_INSERT_USAGE = (
    "INSERT INTO turn_usage (user_id, thread_id, turn_id, model, requests,"
    " input_tokens, output_tokens, tool_calls) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
)
"""One turn's usage (`usage_row` gives the arguments; a turn's close writes the same row in its
own statement, `shared/store/turn_writes.py`)."""


def usage_row(usage: TurnUsage) -> tuple[str, str, str | None, str, int, int, int, int]:
    return (
        usage.user_id,
        usage.thread_id,
        usage.turn_id,
        usage.model,
        usage.requests,
        usage.input_tokens,
        usage.output_tokens,
        usage.tool_calls,
    )


class UsageRepository:
    def __init__(self, pool: DbPool) -> None:
        self._db = UserScopedDb(pool)

    async def record(self, usage: TurnUsage) -> None:
        await self._db.execute(usage.user_id, _INSERT_USAGE, *usage_row(usage))

    async def for_turn(self, user_id: str, turn_id: str) -> list[TurnUsage]:
        rows = await self._db.fetch(
            user_id,
            "SELECT user_id, thread_id, turn_id, model, requests, input_tokens, output_tokens,"
            " tool_calls FROM turn_usage WHERE user_id = $1 AND turn_id = $2 ORDER BY id",
            user_id,
            turn_id,
        )
        return [TurnUsage(**dict(row)) for row in rows]

    async def totals_for_user(self, user_id: str) -> UsageTotals:
        row = await self._db.fetchrow(
            user_id,
            "SELECT count(*) AS turns, coalesce(sum(requests), 0) AS requests,"
            " coalesce(sum(input_tokens), 0) AS input_tokens,"
            " coalesce(sum(output_tokens), 0) AS output_tokens"
            " FROM turn_usage WHERE user_id = $1",
            user_id,
        )
        assert row is not None
        return UsageTotals(
            int(row["turns"]),
            int(row["requests"]),
            int(row["input_tokens"]),
            int(row["output_tokens"]),
        )

    async def daily(
        self, first_day: date, last_day: date, *, user_id: str | None = None
    ) -> list[DailyUsage]:
        """Usage per user per UTC day from `first_day` to `last_day`, both included (an operator
        report: all users unless `user_id` is given), by day, then user."""
        # Across users by design: the all-users scope, said out loud.
        async with all_users_transaction(self._db.pool) as conn:
            rows = await conn.fetch(
                "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, user_id, count(*) AS turns,"
                " sum(requests) AS requests, sum(input_tokens) AS input_tokens,"
                " sum(output_tokens) AS output_tokens, sum(tool_calls) AS tool_calls"
                " FROM turn_usage"
                " WHERE created_at >= ($1::date AT TIME ZONE 'UTC')"
                " AND created_at < ($2::date AT TIME ZONE 'UTC')"
                " AND ($3::text IS NULL OR user_id = $3)"
                " GROUP BY 1, 2 ORDER BY 1, 2",
                first_day,
                last_day + timedelta(days=1),
                user_id,
            )
        return [
            DailyUsage(
                day=row["day"],
                user_id=row["user_id"],
                turns=int(row["turns"]),
                requests=int(row["requests"]),
                input_tokens=int(row["input_tokens"]),
                output_tokens=int(row["output_tokens"]),
                tool_calls=int(row["tool_calls"]),
            )
            for row in rows
        ]
