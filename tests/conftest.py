"""Shared fixtures: a throw-away PostgreSQL database per test session and an isolated Redis db.

Tests use the real services. `TEST_DATABASE_URL` points at a server where we may create databases
(default: the local trust-auth cluster); `TEST_REDIS_URL` at a Redis whose chosen db we may flush.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import redis.asyncio as redis_asyncio

from tests.scratch_database import scratch_database

TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, empty database for this test session, dropped at the end."""
    with scratch_database("taskchat_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return TEST_REDIS_URL


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.Redis.from_url(redis_url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.flushdb()
        await client.aclose()


@pytest.fixture
def base_env(database_url: str, redis_url: str) -> dict[str, str]:
    """A complete environment for `Settings.from_env` pointing at the test services."""
    return {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "GEMINI_API_KEY": "test-key",
        "GEMINI_BASE_URL": "http://127.0.0.1:1/v1beta/openai/",
        "JWT_SECRET": "test-secret-that-is-long-enough-for-hs256",
    }
