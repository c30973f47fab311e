"""Tokens per turn and per user, against real Postgres."""

from __future__ import annotations

from shared.db.pool import DbPool
from shared.usage.repository import TurnUsage, UsageRepository, UsageTotals


def usage(user: str, turn: str, requests: int, tokens_in: int, tokens_out: int) -> TurnUsage:
    return TurnUsage(
        user_id=user,
        thread_id="thr_1",
        turn_id=turn,
        model="gemini-2.5-flash",
        requests=requests,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
    )


async def test_per_turn_and_per_user(db_pool: DbPool) -> None:
    repo = UsageRepository(db_pool)
    await repo.record(usage("alice", "t1", 2, 100, 20))
    await repo.record(usage("alice", "t2", 3, 150, 30))
    await repo.record(usage("bob", "t3", 1, 10, 1))
    assert await repo.for_turn("alice", "t2") == [usage("alice", "t2", 3, 150, 30)]
    assert await repo.for_turn("bob", "t2") == []
    assert await repo.totals_for_user("alice") == UsageTotals(2, 5, 250, 50)
    assert await repo.totals_for_user("nobody") == UsageTotals(0, 0, 0, 0)
