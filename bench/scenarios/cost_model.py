"""What one turn costs the stores: Redis commands (by command) and bytes, PostgreSQL statements,
and the bytes of the answer's stream. One user holds a conversation turn after turn (the first
creates the thread), so nothing overlaps and every count belongs to the turns measured.

Redis counts come from the server (`INFO commandstats`, reset before the run); PostgreSQL's from
its own log, with `log_statement = 'all'` for the run. A turn of the split (gateway + worker) and
of the single process are counted alike.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import redis

from bench.scenarios.common import Context, Figure, ScenarioResult, at_most, load, reported
from bench.system import Arrangement, Backends, RunningSystem, SystemSpec, started_system
from services.loadgen.run import LoadResult

TURNS = 10
REDIS_COMMANDS_TARGET = 30
POSTGRES_STATEMENTS_TARGET = 12
"""Issue 19's targets for a turn of the split (gateway + worker)."""
STATEMENT_KIND_CHARS = 72
"""How much of each statement's SQL names its kind in `postgres_statements_by_kind`."""


def run(ctx: Context) -> ScenarioResult:
    turns = 4 if ctx.quick else TURNS
    runs: dict[str, Any] = {}
    arrangements: tuple[Arrangement, ...] = ("split", "single")
    for arrangement in arrangements:
        spec = SystemSpec(workers=1, arrangement=arrangement)
        with started_system(spec, ctx.backends) as system:
            load(system, "warm-up", 0, users=2, messages=2, progress=False, pids=None)
            runs[arrangement] = _count(system, ctx.backends, turns)
    split, single = runs["split"], runs["single"]
    figures: list[Figure] = [
        reported("ChatKit events per turn", split["events_per_turn"], "events",
                 baseline=single["events_per_turn"]),
        at_most("Redis commands per turn", split["redis_commands"], REDIS_COMMANDS_TARGET,
                "commands", baseline=single["redis_commands"]),
        reported("Redis bytes per turn (in + out)", split["redis_bytes"], "bytes",
                 baseline=single["redis_bytes"]),
        at_most("PostgreSQL statements per turn", split["postgres_statements"],
                POSTGRES_STATEMENTS_TARGET, "statements", baseline=single["postgres_statements"]),
        reported("answer stream bytes per turn", split["sse_bytes"], "bytes",
                 baseline=single["sse_bytes"]),
    ]  # fmt: skip
    return ScenarioResult(
        scenario="cost_model", description=__doc__ or "", figures=figures, runs=runs
    )


def _count(system: RunningSystem, backends: Backends, turns: int) -> dict[str, Any]:
    store = redis.Redis.from_url(system.redis_url)
    store.config_resetstat()
    net_before = _redis_bytes(store)
    log_offset = backends.postgres_log.stat().st_size
    _log_statements(backends.admin_database_url, True)
    try:
        result: LoadResult = load(
            system, "one conversation", 0, users=1, messages=turns, progress=False
        )
    finally:
        _log_statements(backends.admin_database_url, False)
    command_stats: dict[str, dict[str, Any]] = store.info("commandstats")  # type: ignore[assignment]
    commands = {
        name.removeprefix("cmdstat_"): int(stats["calls"]) for name, stats in command_stats.items()
    }
    # What this count itself sent, and the scenario's own reset: not the turns'.
    for own in ("info", "config|resetstat", "config"):
        commands.pop(own, None)
    logged = _statements_logged(backends.postgres_log, log_offset, system.database_url)
    statements = len(logged)
    per_turn = {k: round(v / result.ok_turns, 1) for k, v in sorted(commands.items())}
    return {
        "turns": result.ok_turns,
        "events_per_turn": round(result.events / result.ok_turns, 1),
        "redis_commands": round(sum(commands.values()) / result.ok_turns, 1),
        "redis_commands_by_name": per_turn,
        "redis_bytes": round((_redis_bytes(store) - net_before) / result.ok_turns),
        "postgres_statements": round(statements / result.ok_turns, 1),
        "postgres_statements_by_kind": {
            sql: round(n / result.ok_turns, 1) for sql, n in Counter(logged).most_common()
        },
        "sse_bytes": round(result.sse_bytes / result.ok_turns),
    }


def _redis_bytes(store: redis.Redis) -> int:
    stats: dict[str, Any] = store.info("stats")  # type: ignore[assignment]
    return int(stats["total_net_input_bytes"]) + int(stats["total_net_output_bytes"])


def _log_statements(admin_url: str, on: bool) -> None:
    async def configure() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f"ALTER SYSTEM SET log_statement = '{'all' if on else 'none'}'")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()

    asyncio.run(configure())


def _statements_logged(log: Path, offset: int, database_url: str) -> list[str]:
    """Statements the app ran (asyncpg's prepared `execute` and simple `statement` lines), each
    as the start of its SQL; the server logs each once, however many round trips it took."""
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode(errors="replace").splitlines()
    return [
        _statement_kind(line, lines[n + 1] if n + 1 < len(lines) else "")
        for n, line in enumerate(lines)
        if ("LOG:  statement:" in line or "LOG:  execute" in line)
        and "pg_reload_conf" not in line
        and "ALTER SYSTEM" not in line
    ]


def _statement_kind(line: str, next_line: str) -> str:
    """`SELECT ... FROM items WHERE` from a log line (or the next, where the SQL starts on a new
    line): the SQL's first words, for grouping."""
    sql = line.split("LOG:  ", 1)[1].split(": ", 1)[-1].strip() or next_line
    return " ".join(sql.split())[:STATEMENT_KIND_CHARS]
