"""What every service does with the database before serving: migrate it, as the right role."""

from __future__ import annotations

import logging

from shared.db.migrations import apply_migrations
from shared.db.pool import DbPool, create_owner_pool
from shared.db.roles import grant_app_role
from shared.settings import DatabaseSettings

log = logging.getLogger(__name__)


async def migrate(settings: DatabaseSettings, app_pool: DbPool) -> list[str]:
    """Apply pending migrations; return the names applied by this call.

    Without `MIGRATION_DATABASE_URL` the services' own connection migrates (it must then own the
    tables). With it, a single direct connection as the owner migrates and then makes the role of
    `app_pool` a member of `taskchat_app`.
    """
    if settings.migration_url is None:
        return await apply_migrations(app_pool)
    owner = await create_owner_pool(settings.migration_url)
    try:
        applied = await apply_migrations(owner)
        app_user: str = await app_pool.fetchval("SELECT current_user")
        if await grant_app_role(owner, app_user):
            log.info("granted the role taskchat_app to %s", app_user)
    finally:
        await owner.close()
    if await app_pool.fetchval(_BYPASSES_RLS):
        # Scoped transactions still switch to taskchat_app; only the safety net is gone.
        log.warning(
            "DATABASE_URL's role %s is a superuser or has BYPASSRLS: a query outside a user scope"
            " would see every user's rows. Log in as a role created with plain CREATE ROLE"
            " (docs/deployment-postgres.md)",
            app_user,
        )
    return applied


_BYPASSES_RLS = "SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user"
