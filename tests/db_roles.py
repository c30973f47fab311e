"""Login roles for tests that connect the way a production deployment does: an owner that is not
a superuser (what Neon's `neondb_owner` is) and a service role that owns nothing.

Roles belong to the whole PostgreSQL cluster, not to one database: they are created once, if
missing (another test session may be creating them at the same moment), and never dropped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import asyncpg

from shared.db.pool import DbPool, create_pool
from shared.db.startup import migrate
from shared.settings import DatabaseSettings
from tests.scratch_database import ADMIN_DATABASE_URL, scratch_database

OWNER_ROLE = "taskchat_test_owner"
"""Owns the test database and migrates it: CREATEROLE (to create and grant `taskchat_app`, as a
managed service's owner role can), no SUPERUSER, no BYPASSRLS."""
SERVICE_ROLE = "taskchat_test_service"
"""What the services log in as when deployed with two roles: LOGIN and nothing else."""

_ATTRIBUTES = {
    OWNER_ROLE: "LOGIN CREATEROLE NOSUPERUSER NOBYPASSRLS",
    SERVICE_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB",
}


async def ensure_login_roles() -> None:
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        for role, attributes in _ATTRIBUTES.items():
            await conn.execute(
                f"""
                DO $$
                BEGIN
                    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                        CREATE ROLE {role} {attributes};
                    END IF;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN
                    NULL;
                END
                $$
                """
            )
    finally:
        await conn.close()


async def give_database_to(database_url: str, role: str) -> None:
    """Make `role` the owner of the database (and so of its `public` schema, where it may then
    create tables, as Neon's owner role may in its database)."""
    name = database_url.rpartition("/")[2].partition("?")[0]
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(f'ALTER DATABASE "{name}" OWNER TO {role}')
    finally:
        await conn.close()


def as_role(database_url: str, role: str) -> str:
    """`database_url` with `role` as its user (trust authentication: no password)."""
    scheme, _, rest = database_url.partition("://")
    host_part = rest.partition("@")[2] if "@" in rest.partition("/")[0] else rest
    return f"{scheme}://{role}@{host_part}"


@asynccontextmanager
async def fresh_service_role() -> AsyncIterator[str]:
    """A new login role that owns nothing and is a member of nothing, dropped afterwards: role
    memberships are cluster-wide, so a test of granting one needs a role never granted before."""
    role = f"taskchat_test_service_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(ADMIN_DATABASE_URL)
    try:
        await conn.execute(f"CREATE ROLE {role} {_ATTRIBUTES[SERVICE_ROLE]}")
        yield role
    finally:
        await conn.execute(f"DROP ROLE IF EXISTS {role}")
        await conn.close()


@contextmanager
def owned_scratch_database(prefix: str) -> Iterator[str]:
    """A fresh database owned by the (non-superuser) owner role; its URL as the admin."""
    asyncio.run(ensure_login_roles())
    with scratch_database(prefix) as url:
        asyncio.run(give_database_to(url, OWNER_ROLE))
        yield url


@asynccontextmanager
async def migrated_pool(settings: DatabaseSettings) -> AsyncIterator[DbPool]:
    """The services' pool for `settings`, migrated the way they start (over `migration_url` as
    the owner when set), closed on exit."""
    pool = await create_pool(settings)
    try:
        await migrate(settings, pool)
        yield pool
    finally:
        await pool.close()
