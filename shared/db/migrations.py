"""Forward-only SQL migrations, safe to run from many replicas starting at the same time.

Files named `NNNN_description.sql` in `shared/db/migrations/` are applied in name order, each in
its own transaction, and recorded in `schema_migrations`. Everything happens while holding a
session-level advisory lock, so concurrent callers queue up: the first applies the pending files,
the others then find nothing left to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from shared.db.pool import DbPool

MIGRATION_LOCK_KEY = 0x7461736B63686174
"""`pg_advisory_lock` key serialising migrations: the bytes of ASCII "taskchat" as a bigint.

Fixed forever: replicas of different versions must contend for the same lock.
"""

_NAME = re.compile(r"^\d{4}_[a-z0-9_]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True, slots=True)
class Migration:
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    """All migration files shipped with the package, in the order they must be applied."""
    folder = resources.files("shared.db") / "migrations"
    found = [
        Migration(entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if _NAME.match(entry.name)
    ]
    return sorted(found, key=lambda m: m.name)


async def apply_migrations(pool: DbPool) -> list[str]:
    """Apply pending migrations; return the names applied by this call (often none)."""
    migrations = available_migrations()
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        # A session lock (not a transaction lock) so it spans the one-transaction-per-file loop;
        # it is released explicitly, and by Postgres if the connection dies.
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
        try:
            await conn.execute(_CREATE_TABLE)
            done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
            for migration in migrations:
                if migration.name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (name) VALUES ($1)", migration.name
                    )
                applied_now.append(migration.name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now
