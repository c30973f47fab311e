"""Forward-only SQL migrations, safe to run from many replicas starting at the same time, and
through a transaction-mode pooler.

Files named `NNNN_description.sql` in `shared/db/migrations/` are applied in name order and
recorded in `schema_migrations`, all in one transaction that first takes a transaction-level
advisory lock and then reads, under it, what is pending: a concurrent caller waits at the lock and
then finds nothing left to do. A session-level lock would not do behind PgBouncer in transaction
mode: it would stay on whichever server connection ran `pg_advisory_lock`, and the unlock could run
on another. A transaction's statements all run on one server connection, and its lock ends with
it, whatever happens to the client. One transaction also means a failed file leaves the schema as
it was before the run, never half-way; a file therefore must not need to run outside a
transaction (no `CREATE INDEX CONCURRENTLY`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from shared.db.pool import DbPool
from shared.db.user_scope import ALL_USERS_SETTING

MIGRATION_LOCK_KEY = 0x7461736B63686174
"""`pg_advisory_xact_lock` key serialising migrations: the bytes of ASCII "taskchat" as a bigint.

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
    applied_now: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK_KEY)
        await conn.execute(_CREATE_TABLE)
        done = {row["name"] for row in await conn.fetch("SELECT name FROM schema_migrations")}
        # Row-level security is forced on the owner too (0008): a data migration sees every
        # user's rows only by saying so.
        await conn.execute(f"SELECT set_config('{ALL_USERS_SETTING}', 'on', true)")
        for migration in available_migrations():
            if migration.name in done:
                continue
            await conn.execute(migration.sql)
            await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", migration.name)
            applied_now.append(migration.name)
    return applied_now
