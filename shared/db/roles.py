"""The two roles of a deployment: the owner, who migrates, and the role the services run as.

The owner (`MIGRATION_DATABASE_URL`, or `DATABASE_URL` when that is unset) creates the tables and
the group role `taskchat_app`, which holds the services' privileges on them (migration 0005). The
services may log in as another role that owns nothing (`DATABASE_URL`); it needs membership in
`taskchat_app`, which the owner grants here after migrating, so deploying needs no manual GRANT.
"""

from __future__ import annotations

import asyncpg

from shared.db.pool import DbPool
from shared.db.user_scope import APP_ROLE


class AppRoleNotGranted(RuntimeError):
    """The owner may not grant `taskchat_app` (no CREATEROLE, no ADMIN OPTION on it)."""


async def grant_app_role(owner: DbPool, app_user: str) -> bool:
    """Make `app_user` a member of `taskchat_app`; True if this call granted it."""
    async with owner.acquire() as conn:
        if await conn.fetchval("SELECT pg_has_role($1, $2, 'MEMBER')", app_user, APP_ROLE):
            return False
        # The role names are quoted by Postgres itself (%I), not pasted into SQL here.
        grant: str = await conn.fetchval(
            "SELECT format('GRANT %I TO %I', $1::text, $2::text)", APP_ROLE, app_user
        )
        try:
            await conn.execute(grant)
        except asyncpg.InsufficientPrivilegeError as exc:
            raise AppRoleNotGranted(
                f"the migrating role cannot grant {APP_ROLE} to {app_user!r} ({exc}); run"
                f" `{grant}` once as an administrator"
            ) from exc
    return True
