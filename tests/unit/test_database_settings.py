"""Database URLs as Neon hands them out: pooled and direct, `sslmode=require`, `channel_binding`."""

from __future__ import annotations

import pytest

from shared.db.dsn import asyncpg_dsn
from shared.settings import Settings, SettingsError

POOLED = "postgresql://alex:AbC123@ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws.neon.tech/db"
DIRECT = "postgresql://owner:Own3r@ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon.tech/db"
BASE = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GEMINI_API_KEY": "k",
    "JWT_SECRET": "unit-test-secret-that-is-32-bytes-long",
}


def settings(**env: str) -> Settings:
    return Settings.from_env({**BASE, **env})


def test_neons_pooled_host_means_a_transaction_pooler() -> None:
    assert (
        settings(DATABASE_URL=f"{POOLED}?sslmode=require").database.resolved_pooler == "transaction"
    )
    assert settings(DATABASE_URL=f"{DIRECT}?sslmode=require").database.resolved_pooler == "none"


def test_the_pooler_setting_overrides_detection() -> None:
    own = "postgresql://u@pgbouncer.internal:6432/taskchat"
    assert (
        settings(DATABASE_URL=own, DATABASE_POOLER="transaction").database.resolved_pooler
        == "transaction"
    )
    assert settings(DATABASE_URL=POOLED, DATABASE_POOLER="none").database.resolved_pooler == "none"
    with pytest.raises(SettingsError, match="DATABASE_POOLER"):
        settings(DATABASE_URL=own, DATABASE_POOLER="session")


def test_channel_binding_prefer_is_dropped_and_sslmode_kept() -> None:
    url = f"{POOLED}?sslmode=require&channel_binding=prefer"
    assert settings(DATABASE_URL=url).database.url == url
    assert asyncpg_dsn(url) == f"{POOLED}?sslmode=require"
    assert asyncpg_dsn(f"{POOLED}?sslmode=verify-full") == f"{POOLED}?sslmode=verify-full"


def test_channel_binding_require_is_refused_not_ignored() -> None:
    with pytest.raises(SettingsError) as raised:
        settings(
            DATABASE_URL=f"{POOLED}?sslmode=require",
            MIGRATION_DATABASE_URL=f"{DIRECT}?sslmode=require&channel_binding=require",
        )
    [problem] = raised.value.problems
    assert problem.startswith("MIGRATION_DATABASE_URL cannot be used: channel_binding=require")


def test_the_migration_url_is_optional_and_its_password_never_printed() -> None:
    assert settings(DATABASE_URL=POOLED).database.migration_url is None
    database = settings(DATABASE_URL=POOLED, MIGRATION_DATABASE_URL=DIRECT).database
    assert database.migration_url == DIRECT
    assert "Own3r" not in repr(database) and "AbC123" not in repr(database)
    with pytest.raises(SettingsError, match="MIGRATION_DATABASE_URL"):
        settings(DATABASE_URL=POOLED, MIGRATION_DATABASE_URL="mysql://x@y/z")
