"""A system deployed as on Neon, for the pooler tests and `pooler_connections`: the services log
in through PgBouncer (transaction mode, TLS required) as a role that owns nothing and migrate over
a direct URL as the (non-superuser) owner."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.db_roles import OWNER_ROLE, SERVICE_ROLE, as_role, give_database_to
from tests.pgbouncer import PgBouncer, database_name
from tests.scratch_database import scratch_database


@contextmanager
def owned_database(prefix: str) -> Iterator[str]:
    """A fresh database owned by the (non-superuser) owner role; its URL as the admin."""
    with scratch_database(prefix) as url:
        asyncio.run(give_database_to(url, OWNER_ROLE))
        yield url


def pooled_env(bouncer: PgBouncer, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": bouncer.url(database_name(database_url), SERVICE_ROLE),
        "DATABASE_POOLER": "transaction",
        "MIGRATION_DATABASE_URL": as_role(database_url, OWNER_ROLE),
    }


def gauges(gateway_url: str) -> dict[str, float]:
    text = httpx.get(f"{gateway_url}/metrics", timeout=10).text
    return {
        name: float(value)
        for name, value in re.findall(r"^(taskchat_[a-z_]+) ([0-9.e+]+)$", text, re.MULTILINE)
    }
