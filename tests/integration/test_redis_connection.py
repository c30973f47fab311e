"""The services' Redis client at start-up: usable once Redis answers, a clear failure otherwise."""

from __future__ import annotations

import asyncio
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from services.launcher.net import free_port
from shared.redis_connection import connect_redis
from shared.settings import RedisSettings


async def test_a_running_redis_gives_a_client_that_answers(redis_url: str) -> None:
    redis = await connect_redis(RedisSettings(url=redis_url))
    try:
        await redis.set("connect-check", b"1")
        assert await redis.get("connect-check") == b"1"
        await redis.delete("connect-check")
    finally:
        await redis.aclose()


async def test_no_redis_is_retried_then_fails_with_the_last_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    with (
        caplog.at_level(logging.WARNING, logger="shared.redis_connection"),
        pytest.raises(RedisConnectionError),
    ):
        await connect_redis(RedisSettings(url=url), attempts=3, retry_delay_s=0.01)
    tries = [r.getMessage() for r in caplog.records if "Redis not answering" in r.getMessage()]
    assert len(tries) == 2 and "try 3 of 3" in tries[-1]


async def test_redis_that_comes_up_late_is_waited_for(redis_url: str) -> None:
    """A relay in front of the real Redis that starts listening only after the first try."""
    port = free_port()
    host, _, rest = redis_url.removeprefix("redis://").partition("/")
    real_host, _, real_port = host.rpartition(":")

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(real_host, int(real_port))
        await asyncio.gather(pipe(client_r, server_w), pipe(server_r, client_w))

    async def start_late() -> asyncio.Server:
        await asyncio.sleep(0.3)
        return await asyncio.start_server(relay, "127.0.0.1", port)

    late = asyncio.create_task(start_late())
    redis = await connect_redis(
        RedisSettings(url=f"redis://127.0.0.1:{port}/{rest}"), attempts=20, retry_delay_s=0.1
    )
    server = await late
    try:
        assert await redis.ping()
    finally:
        await redis.aclose()
        server.close()
