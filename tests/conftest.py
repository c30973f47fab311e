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


def pytest_configure(config: pytest.Config) -> None:
    # Registered here too, so the marks below pass --strict-markers when xdist is not loaded.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under `pytest -n N --dist loadgroup` (`make test`), each test module goes to one worker
    as a whole, so a system a module starts once (module-scoped) is still started once; the
    browser tests go together, as they share one Chromium and one system (tests/browser)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            module = item.nodeid.partition("::")[0]
            group = "browser" if module.startswith("tests/browser/") else module
            item.add_marker(pytest.mark.xdist_group(group))


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
