"""`taskchat migrate`: apply pending database migrations and report what was applied.

Safe to run from many places at once (the migrations take an advisory lock), so deployments can
run it as an init step before starting gateways and workers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Mapping

from services.cli.args import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("migrate", help="apply pending database migrations")
    parser.set_defaults(handler=run)


async def apply_pending(environ: Mapping[str, str]) -> list[str]:
    """Apply migrations to the database of `DATABASE_URL` in `environ`, as the owner of
    `MIGRATION_DATABASE_URL` when that is set."""
    from shared.db.pool import create_pool
    from shared.db.startup import migrate
    from shared.settings import Settings

    settings = Settings.from_env(environ, needs_model=False)
    pool = await create_pool(settings.database)
    try:
        return await migrate(settings.database, pool)
    finally:
        await pool.close()


def run(args: argparse.Namespace) -> int:
    from shared.settings import SettingsError

    try:
        applied = asyncio.run(apply_pending(os.environ))
    except SettingsError as exc:
        print(f"taskchat migrate: {exc}", file=sys.stderr)
        return 2
    except (OSError, ConnectionError) as exc:
        print(f"taskchat migrate: cannot reach the database: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # asyncpg errors, bad SQL: report, don't dump a traceback
        print(f"taskchat migrate: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    if applied:
        print("Applied migrations:\n" + "".join(f"  {name}\n" for name in applied), end="")
    else:
        print("Database is up to date (no pending migrations).")
    return 0
