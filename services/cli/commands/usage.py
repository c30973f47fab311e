"""`taskchat usage`: tokens and tool calls per user per day (UTC), from the turns' usage rows."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import msgspec

from services.cli.args import Subparsers

if TYPE_CHECKING:
    from shared.usage.repository import DailyUsage

DEFAULT_DAYS = 7


def iso_date(raw: str) -> date:
    """argparse `type=` for YYYY-MM-DD."""
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "usage", help="tokens and tool calls per user per day (UTC), for a date range"
    )
    parser.add_argument(
        "--from",
        dest="first_day",
        type=iso_date,
        help=f"first day, YYYY-MM-DD (default: {DEFAULT_DAYS - 1} days before --to)",
    )
    parser.add_argument(
        "--to", dest="last_day", type=iso_date, help="last day, included (default: today, UTC)"
    )
    parser.add_argument("--user", help="only this user id")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def date_range(first_day: date | None, last_day: date | None, today: date) -> tuple[date, date]:
    """The report's days; raises ValueError when they are reversed."""
    last = last_day or today
    first = first_day or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ValueError(f"--from {first} is after --to {last}")
    return first, last


def render_usage(rows: list[DailyUsage], first_day: date, last_day: date) -> str:
    header = f"Usage from {first_day} to {last_day} (UTC)"
    if not rows:
        return f"{header}: no turns."
    lines = [
        header,
        f"{'DAY':<10}  {'USER':<24} {'TURNS':>7} {'REQUESTS':>9} {'INPUT':>11} {'OUTPUT':>10}"
        f" {'TOOLS':>7}",
    ]
    for r in rows:
        lines.append(
            f"{r.day.isoformat():<10}  {r.user_id:<24} {r.turns:>7} {r.requests:>9}"
            f" {r.input_tokens:>11} {r.output_tokens:>10} {r.tool_calls:>7}"
        )
    lines.append(
        f"{'total':<10}  {'':<24} {sum(r.turns for r in rows):>7}"
        f" {sum(r.requests for r in rows):>9} {sum(r.input_tokens for r in rows):>11}"
        f" {sum(r.output_tokens for r in rows):>10} {sum(r.tool_calls for r in rows):>7}"
    )
    return "\n".join(lines)


async def read_usage(
    environ: Mapping[str, str], first_day: date, last_day: date, user_id: str | None
) -> list[DailyUsage]:
    from shared.db.pool import create_pool
    from shared.settings import Settings
    from shared.usage.repository import UsageRepository

    settings = Settings.from_env(environ, needs_model=False)
    pool = await create_pool(settings.database)
    try:
        return await UsageRepository(pool).daily(first_day, last_day, user_id=user_id)
    finally:
        await pool.close()


def run(args: argparse.Namespace) -> int:
    from shared.settings import SettingsError

    try:
        first, last = date_range(args.first_day, args.last_day, datetime.now(UTC).date())
    except ValueError as exc:
        print(f"taskchat usage: {exc}", file=sys.stderr)
        return 2
    try:
        rows = asyncio.run(read_usage(os.environ, first, last, args.user))
    except SettingsError as exc:
        print(f"taskchat usage: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"taskchat usage: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(msgspec.to_builtins(rows), indent=2))
    else:
        print(render_usage(rows, first, last))
    return 0
