"""Stream slots bound what one user holds: a turn keeps its slot until its end, even when its
client left (`ON_DISCONNECT=continue`); re-joins take slots (one may stream on its turn's own);
and re-joining a cancelled turn ends with a notice that says so."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from redis.asyncio import Redis

from services.chatkit_client.requests import threads_create
from services.gateway.turns.cancelling import cancel_turn
from shared.turns.queue import TurnQueue
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import LONG_MESSAGE, SLOW_MODEL_ENV
from tests.e2e.sse import read_until, sse_messages

pytestmark = pytest.mark.e2e

LIMIT = 3
LEASE_S = 2
"""Short, so that a slot nobody renews lapses within the test."""
HANG = "hi [[fail:hang]]"
"""The emulator never answers: the turn runs until `TURN_TIMEOUT_S`."""


@pytest.fixture(scope="module")
def continuing(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {**SLOW_MODEL_ENV, "ON_DISCONNECT": "continue", "MAX_CONCURRENT_STREAMS": str(LIMIT),
           "STREAM_LEASE_S": str(LEASE_S), "TURN_TIMEOUT_S": "12", "GEMINI_TIMEOUT_S": "60",
           "GEMINI_MAX_RETRIES": "0"}  # fmt: skip
    with running_system(backends, tmp_path_factory, "e2e-stream-slots", env) as running:
        yield running


def http_for(system: System, user: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {system.token(user)}"}
    return httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30)


def start_and_leave(http: httpx.Client, text: str) -> int:
    """Start a turn, read its first event, and leave: the status code it was answered with."""
    with http.stream("POST", "/chatkit", json=threads_create(text)) as response:
        if response.status_code == 200:
            read_until(sse_messages(response.iter_lines()), 1, "thread.created")
        return response.status_code


def test_turns_whose_client_left_keep_their_slots_until_they_end(continuing: System) -> None:
    with http_for(continuing, f"left-{uuid.uuid4().hex[:8]}") as http:
        assert [start_and_leave(http, HANG) for _ in range(LIMIT)] == [200] * LIMIT
        time.sleep(LEASE_S * 1.5)  # only their workers renew their slots now
        # Three turns run on with nobody watching: three more are refused, not run.
        more = [start_and_leave(http, HANG) for _ in range(LIMIT)]
        assert more == [429] * LIMIT, more
        # At their end (the turn timeout) the slots come back.
        deadline = time.monotonic() + 60
        while start_and_leave(http, "hello") != 200:
            assert time.monotonic() < deadline, "the slots never came back"
            time.sleep(0.5)


def test_rejoins_take_slots(continuing: System) -> None:
    rejoins = 20
    with (
        http_for(continuing, f"rejoin-{uuid.uuid4().hex[:8]}") as http,
        http.stream("POST", "/chatkit", json=threads_create(HANG)) as running,
    ):
        turn_id = running.headers["x-turn-id"]
        lines = running.iter_lines()  # kept open: the turn's own stream holds one slot
        read_until(sse_messages(lines), 1, "thread.created")
        all_answered = threading.Barrier(rejoins, timeout=60)

        def rejoin(_: int) -> int:
            with http.stream("GET", f"/chatkit/turns/{turn_id}/events") as response:
                all_answered.wait()  # every re-join is open (or refused) at once
                return response.status_code

        with ThreadPoolExecutor(rejoins) as pool:
            statuses = list(pool.map(rejoin, range(rejoins)))
    # One re-join streams on the turn's own slot, two more take the two slots left.
    assert sorted(statuses) == [200] * LIMIT + [429] * (rejoins - LIMIT), statuses


def test_rejoining_a_cancelled_turn_ends_with_a_notice(continuing: System) -> None:
    with http_for(continuing, f"cancel-{uuid.uuid4().hex[:8]}") as http:
        with http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as response:
            turn_id = response.headers["x-turn-id"]
            messages = sse_messages(response.iter_lines())
            shown = read_until(messages, 2, "thread.item.updated")
            cancel(continuing, turn_id)
            shown += list(messages)  # the stream that is still open hears it too
        assert shown[-1].type == "notice" and shown[-1].data is not None, shown[-1]
        assert "stopped" in shown[-1].data["message"]
        last_event = [m.event_id for m in shown if m.event_id][-1]

        with http.stream(
            "GET", f"/chatkit/turns/{turn_id}/events", headers={"Last-Event-ID": last_event}
        ) as rejoined:
            assert rejoined.status_code == 200
            rest = list(sse_messages(rejoined.iter_lines()))
        assert [m.type for m in rest] == ["notice"], rest
        assert rest[0].data == shown[-1].data


def cancel(system: System, turn_id: str) -> None:
    """Cancel the turn the way the gateway does for its author (`cancel_turn`)."""

    async def cancelling() -> None:
        redis = Redis.from_url(system.env["REDIS_URL"])
        try:
            queue = TurnQueue(redis, turn_timeout_s=60)
            origin = await queue.origin(turn_id)
            assert origin is not None
            await cancel_turn(queue, turn_id, origin.user_id)
        finally:
            await redis.aclose()

    asyncio.run(cancelling())
