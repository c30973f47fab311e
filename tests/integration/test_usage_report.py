"""Tool calls stored with a turn's tokens; `taskchat usage` per user per day, on real Postgres."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import msgspec
import pytest

from services.cli.__main__ import main
from services.cli.commands.usage import read_usage, render_usage
from shared.db.migrations import apply_migrations
from shared.db.pool import DbPool, create_pool
from shared.settings import DatabaseSettings
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


def test_usage_command_prints_json_for_one_user(
    base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user = f"cli-{uuid.uuid4().hex[:8]}"

    async def seed() -> None:
        pool = await create_pool(DatabaseSettings(url=base_env["DATABASE_URL"]))
        try:
            await apply_migrations(pool)
            await pool.execute(
                "INSERT INTO turn_usage (user_id, thread_id, turn_id, model, requests,"
                " input_tokens, output_tokens, tool_calls, created_at)"
                " VALUES ($1, 'thr', 't', 'm', 3, 30, 5, 2, '2026-02-10 12:00+00')",
                user,
            )
        finally:
            await pool.close()

    asyncio.run(seed())
    for name, env_value in base_env.items():
        monkeypatch.setenv(name, env_value)
    with pytest.raises(SystemExit) as exited:
        main(["usage", "--from", "2026-02-10", "--to", "2026-02-10", "--user", user, "--json"])
    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "day": "2026-02-10",
            "user_id": user,
            "turns": 1,
            "requests": 3,
            "input_tokens": 30,
            "output_tokens": 5,
            "tool_calls": 2,
        }
    ]


def test_usage_command_refuses_reversed_dates(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["usage", "--from", "2026-02-10", "--to", "2026-02-01"])
    assert exited.value.code == 2
    assert "--from 2026-02-10 is after --to 2026-02-01" in capsys.readouterr().err
