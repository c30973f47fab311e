"""Recording and summing the tokens each turn used."""

from __future__ import annotations

import msgspec

from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb


class TurnUsage(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    thread_id: str
    turn_id: str | None
    model: str
    requests: int
    input_tokens: int
    output_tokens: int


class UsageTotals(msgspec.Struct, frozen=True):
    turns: int
    requests: int
    input_tokens: int
    output_tokens: int


class UsageRepository:
    def __init__(self, pool: DbPool) -> None:
        self._db = UserScopedDb(pool)

    async def record(self, usage: TurnUsage) -> None:
        await self._db.execute(
            usage.user_id,
            "INSERT INTO turn_usage (user_id, thread_id, turn_id, model, requests,"
            " input_tokens, output_tokens) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            usage.user_id,
            usage.thread_id,
            usage.turn_id,
            usage.model,
            usage.requests,
            usage.input_tokens,
            usage.output_tokens,
        )

    async def for_turn(self, user_id: str, turn_id: str) -> list[TurnUsage]:
        rows = await self._db.fetch(
            user_id,
            "SELECT user_id, thread_id, turn_id, model, requests, input_tokens, output_tokens"
            " FROM turn_usage WHERE user_id = $1 AND turn_id = $2 ORDER BY id",
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
