"""Tool calls stored with a turn's tokens; `taskchat usage` per user per day, on real Postgres."""

from __future__ import annotations

from datetime import date

import msgspec

from services.cli.commands.usage import read_usage, render_usage
from shared.db.pool import DbPool
from shared.usage.repository import DailyUsage, TurnUsage, UsageRepository


def usage(user: str, turn: str, tokens_in: int, tool_calls: int) -> TurnUsage:
    return TurnUsage(
        user_id=user,
        thread_id="thr_1",
        turn_id=turn,
        model="gemini-2.5-flash",
        requests=2,
        input_tokens=tokens_in,
        output_tokens=10,
        tool_calls=tool_calls,
    )


async def record_on(db_pool: DbPool, day: str, row: TurnUsage) -> None:
    await UsageRepository(db_pool).record(row)
    await db_pool.execute(
        "UPDATE turn_usage SET created_at = ($1::date AT TIME ZONE 'UTC') + interval '23 hours'"
        " WHERE turn_id = $2",
        date.fromisoformat(day),
        row.turn_id,
    )


async def test_tool_calls_are_stored_with_the_turn(db_pool: DbPool) -> None:
    repo = UsageRepository(db_pool)
    await repo.record(usage("alice", "t1", 100, 3))
    assert await repo.for_turn("alice", "t1") == [usage("alice", "t1", 100, 3)]


async def test_daily_report_per_user_and_day(db_pool: DbPool, base_env: dict[str, str]) -> None:
    await record_on(db_pool, "2026-03-01", usage("alice", "a1", 100, 1))
    await record_on(db_pool, "2026-03-01", usage("alice", "a2", 50, 2))
    await record_on(db_pool, "2026-03-01", usage("bob", "b1", 7, 0))
    await record_on(db_pool, "2026-03-02", usage("alice", "a3", 1, 4))
    await record_on(db_pool, "2026-03-03", usage("alice", "a4", 1, 1))  # after the range

    rows = await read_usage(base_env, date(2026, 3, 1), date(2026, 3, 2), None)

    def day(on: str, user: str, turns: int, tokens_in: int, tools: int) -> DailyUsage:
        return DailyUsage(
            day=date.fromisoformat(on),
            user_id=user,
            turns=turns,
            requests=2 * turns,
            input_tokens=tokens_in,
            output_tokens=10 * turns,
            tool_calls=tools,
        )

    assert rows == [
        day("2026-03-01", "alice", 2, 150, 3),
        day("2026-03-01", "bob", 1, 7, 0),
        day("2026-03-02", "alice", 1, 1, 4),
    ]
    assert await read_usage(base_env, date(2026, 3, 1), date(2026, 3, 3), "bob") == [
        day("2026-03-01", "bob", 1, 7, 0)
    ]
    text = render_usage(rows, date(2026, 3, 1), date(2026, 3, 2))
    assert text.splitlines()[0] == "Usage from 2026-03-01 to 2026-03-02 (UTC)"
    assert text.splitlines()[-1].split() == ["total", "4", "8", "158", "40", "7"]
    assert msgspec.to_builtins(rows)[0] == {
        "day": "2026-03-01",
        "user_id": "alice",
        "turns": 2,
        "requests": 4,
        "input_tokens": 150,
        "output_tokens": 20,
        "tool_calls": 3,
    }
    assert render_usage([], date(2026, 1, 1), date(2026, 1, 7)).endswith("no turns.")
