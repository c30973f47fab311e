"""Shared fixtures: a throw-away PostgreSQL database and a private Redis server per test session.

Tests use the real services. `TEST_DATABASE_URL` points at a server where we may create databases
(default: the local trust-auth cluster). Redis is a `redis-server` of our own on a free port, so two
test sessions on one machine never take each other's turns; `TEST_REDIS_URL` (a server whose
databases we may flush) replaces it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis.asyncio as redis_asyncio

from services.launcher.embedded_redis import EmbeddedRedis
from services.launcher.net import free_port
from tests.scratch_database import scratch_database


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook: unknown when xdist is not loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`make test` (`pytest -n 2 --dist loadfile`): see `tests/xdist_scheduling.py`."""
    if config.getvalue("dist") != "loadfile":
        return None
    from tests.xdist_scheduling import ModuleScheduling

    return ModuleScheduling(config, log)


@dataclass(frozen=True)
class Backends:
    """The PostgreSQL database and the Redis server of this test session."""

    database_url: str
    redis_server_url: str  # without a database number

    def redis_url(self, db: int) -> str:
        return f"{self.redis_server_url}/{db}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A fresh, empty database for this test session, dropped at the end."""
    with scratch_database("taskchat_test") as url:
        yield url


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("TEST_REDIS_URL")
    if configured:
        yield configured.rstrip("/")
        return
    server = EmbeddedRedis(Path(tmp_path_factory.mktemp("redis")), free_port("127.0.0.1"))
    server.start()
    try:
        yield server.url().rpartition("/")[0]
    finally:
        server.stop()


@pytest.fixture(scope="session")
def backends(database_url: str, redis_server_url: str) -> Backends:
    return Backends(database_url, redis_server_url)


@pytest.fixture(scope="session")
def redis_url(backends: Backends) -> str:
    return backends.redis_url(15)


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
