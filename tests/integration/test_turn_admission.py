"""A refused turn costs nothing: draining, no live worker, a full queue and a busy thread refuse a
turn before it is queued, and the user keeps today's message and their stream slot. The gateway
in-process, on real Postgres and Redis, with no worker (its heartbeat is written by hand)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis.asyncio as redis_asyncio
from chatkit.types import ThreadMetadata
from litestar.testing import AsyncTestClient

from services.gateway.app import create_app
from services.gateway.auth.tokens import issue_token
from services.gateway.draining import DrainState
from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.settings import Settings
from shared.store.postgres_store import PostgresStore
from shared.turns import keys
from shared.workers.registry import WORKERS

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Inferred dependency field:litestar.exceptions.LitestarDeprecationWarning"
)

USER = "admission-user"
THREAD = "thr_admission"


def new_thread(text: str) -> dict[str, Any]:
    return {
        "type": "threads.create",
        "params": {"input": {"content": [{"type": "input_text", "text": text}],
                             "attachments": [], "inference_options": {}}},
    }  # fmt: skip


def add_message(text: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": THREAD, **new_thread(text)["params"]},
    }


@pytest.fixture
async def env(base_env: dict[str, str], db_pool: DbPool) -> dict[str, str]:
    thread = ThreadMetadata(id=THREAD, created_at=datetime.now(UTC))
    await PostgresStore(db_pool).save_thread(thread, RequestContext(user_id=USER))
    return {**base_env, "MAX_QUEUE_DEPTH": "2", "DAILY_MESSAGE_QUOTA": "5"}


async def post_turn(
    env: dict[str, str], body: dict[str, Any], draining: DrainState | None = None
) -> httpx.Response:
    app = create_app(Settings.from_env(env, needs_model=False), draining)
    token = issue_token(env["JWT_SECRET"], USER)
    async with AsyncTestClient(app=app) as client:
        return await client.post(
            "/chatkit", json=body, headers={"Authorization": f"Bearer {token}"}
        )


async def assert_refused_for_free(
    redis_client: redis_asyncio.Redis, response: httpx.Response, text: str
) -> None:
    day = datetime.now(UTC).date().isoformat()
    assert await redis_client.get(keys.daily_messages(USER, day)) in (None, b"0")
    assert await redis_client.zcard(keys.open_streams(USER)) == 0
    assert response.status_code == 200, response.text
    events = [
        json.loads(line[len("data: ") :])
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert [e["type"] for e in events] == ["error"], events
    assert text in events[0]["message"] and events[0]["allow_retry"] is True
    assert int(response.headers["retry-after"]) > 0
    assert await redis_client.llen(keys.TURN_QUEUE) in (0, 2)  # type: ignore[misc]  # none of ours


async def a_live_worker(redis_client: redis_asyncio.Redis) -> None:
    await redis_client.zadd(WORKERS, {"stand-in-worker": time.time()})


async def test_no_live_worker_costs_no_message(
    env: dict[str, str], redis_client: redis_asyncio.Redis
) -> None:
    response = await post_turn(env, new_thread("hello"))
    await assert_refused_for_free(redis_client, response, "not available")


async def test_a_draining_gateway_costs_no_message(
    env: dict[str, str], redis_client: redis_asyncio.Redis
) -> None:
    await a_live_worker(redis_client)
    draining = DrainState()
    draining.start()
    response = await post_turn(env, new_thread("hello"), draining)
    await assert_refused_for_free(redis_client, response, "restarting")


async def test_a_full_queue_costs_no_message(
    env: dict[str, str], redis_client: redis_asyncio.Redis
) -> None:
    await a_live_worker(redis_client)
    await redis_client.lpush(keys.TURN_QUEUE, b"queued-1", b"queued-2")  # type: ignore[misc]
    response = await post_turn(env, new_thread("hello"))
    await assert_refused_for_free(redis_client, response, "very busy")


async def test_a_busy_thread_costs_no_message(
    env: dict[str, str], redis_client: redis_asyncio.Redis
) -> None:
    await a_live_worker(redis_client)
    await redis_client.set(keys.thread_turn(THREAD), b"another-turn")
    response = await post_turn(env, add_message("me too"))
    await assert_refused_for_free(redis_client, response, "still being written")
    assert await redis_client.get(keys.thread_turn(THREAD)) == b"another-turn"  # not ours to free


async def test_a_refusal_for_the_users_limits_is_a_429_that_costs_nothing_else(
    env: dict[str, str], redis_client: redis_asyncio.Redis
) -> None:
    await a_live_worker(redis_client)
    day = datetime.now(UTC).date().isoformat()
    await redis_client.set(keys.daily_messages(USER, day), b"5")
    response = await post_turn(env, new_thread("one too many"))
    assert response.status_code == 429, response.text
    assert "5 messages for today" in response.json()["detail"]
    assert int(response.headers["retry-after"]) > 0
    assert await redis_client.get(keys.daily_messages(USER, day)) == b"5"
    assert await redis_client.zcard(keys.open_streams(USER)) == 0
