"""A turn always ends: dead workers, missing workers, model errors and departed clients."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import threads_create
from shared.turns import keys
from shared.turns.event_log import entry_events
from shared.workers.registry import WORKERS, WorkerStatus
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(
        backends,
        tmp_path_factory,
        "e2e-failure",
        # ON_DISCONNECT=cancel: the disconnect test checks the policy a client without the
        # explicit stop route relies on (the default, `continue`, is tested in the browser).
        {
            "TURN_START_TIMEOUT_S": "3",
            "GEMINI_TIMEOUT_S": "20",
            "MAX_QUEUE_DEPTH": "5",
            "ON_DISCONNECT": "cancel",
        },
    ) as running:
        yield running


def events_until(lines: Iterator[str], event_type: str) -> list[dict[str, Any]]:
    seen = []
    for line in lines:
        if line.startswith("data: "):
            seen.append(json.loads(line[6:]))
            if seen[-1]["type"] == event_type:
                return seen
    raise AssertionError(f"stream ended before {event_type}: {seen}")


def remaining_events(lines: Iterator[str]) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in lines if line.startswith("data: ")]


def turn_log_kinds(system: System, turn_id: str) -> list[str]:
    client = redis.Redis.from_url(system.env["REDIS_URL"])
    entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(keys.turn_events(turn_id))  # type: ignore[assignment]
    return [event.kind for _, fields in entries for event in entry_events(fields)]


def wait_for(predicate: Any, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_model_error_becomes_a_retryable_error_event(system: System) -> None:
    client = ChatKitClient(system.gateway_url, system.token(f"u-{uuid.uuid4().hex[:8]}"))
    try:
        turn = client.create_thread("hello [[fail:500]]")
        errors = turn.of_type("error")
        assert len(errors) == 1, turn.raw_events
        assert errors[0]["allow_retry"] is True
        assert errors[0]["message"]
        # The user's message was kept, so retrying loses nothing.
        stored = client.request(
            {"type": "threads.get_by_id", "params": {"thread_id": turn.thread_id}}
        ).json()
        assert [i["type"] for i in stored["items"]["data"]] == ["user_message"]
    finally:
        client.close()


def test_killed_worker_ends_the_stream_with_a_retryable_error(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('victim')}"}
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as http:
        request = threads_create("hello [[fail:hang]]")
        with http.stream("POST", "/chatkit", json=request) as response:
            lines = response.iter_lines()
            events_until(lines, "stream_options")  # the worker is now waiting on the model
            system.service("worker-1").kill()
            killed_at = time.monotonic()
            rest = remaining_events(lines)
            noticed_after_s = time.monotonic() - killed_at
    assert [e["type"] for e in rest] == ["error"], rest
    assert rest[0]["allow_retry"] is True
    assert noticed_after_s < 5, noticed_after_s  # 3 missed heartbeats of 0.5 s, generously
    system.processes.running.remove(system.service("worker-1"))
    system.start_worker("worker-1")


def test_no_live_worker_is_an_immediate_retryable_error(system: System) -> None:
    system.service("worker-1").stop()
    system.processes.running.remove(system.service("worker-1"))
    queue = redis.Redis.from_url(system.env["REDIS_URL"])
    queued_before = queue.llen(keys.TURN_QUEUE)
    try:
        client = ChatKitClient(system.gateway_url, system.token("lonely"))
        try:
            started = time.monotonic()
            turn = client.create_thread("hello")
            answered_after_s = time.monotonic() - started
        finally:
            client.close()
        assert [e["type"] for e in turn.raw_events] == ["error"], turn.raw_events
        assert turn.raw_events[0]["allow_retry"] is True
        assert "not available" in turn.raw_events[0]["message"]
        assert answered_after_s < 2, answered_after_s  # not the 3 s start timeout
        # Nothing was queued for a worker that starts later to run unasked.
        assert queue.llen(keys.TURN_QUEUE) == queued_before
    finally:
        queue.close()
        system.start_worker("worker-1")


def test_turn_nobody_picks_up_ends_with_a_retryable_error(system: System) -> None:
    """A worker that is registered but never takes turns (wedged): the start timeout ends it."""
    system.service("worker-1").stop()
    system.processes.running.remove(system.service("worker-1"))
    client = redis.Redis.from_url(system.env["REDIS_URL"])
    wedged = WorkerStatus("wedged", "host", 1, time.time(), 0, 1, time.time() + 60)
    client.zadd(WORKERS, {wedged.worker_id: wedged.beat_at})
    try:
        chat = ChatKitClient(system.gateway_url, system.token("lonely"))
        try:
            turn = chat.create_thread("hello")
        finally:
            chat.close()
        assert [e["type"] for e in turn.raw_events] == ["error"], turn.raw_events
        assert turn.raw_events[0]["allow_retry"] is True
        # The abandoned turn is marked, so a worker that starts later does not run it.
        assert client.exists(keys.turn_cancelled(turn.headers["x-turn-id"]))
    finally:
        client.zrem(WORKERS, wedged.worker_id)
        system.start_worker("worker-1")


def test_client_disconnect_cancels_the_running_turn(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token('quitter')}"}
    request = threads_create("hi [[fail:hang]]")
    with (
        httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as http,
        http.stream("POST", "/chatkit", json=request) as response,
    ):
        turn_id = response.headers["x-turn-id"]
        events_until(response.iter_lines(), "stream_options")
    # Leaving the `with` closed the connection while the model was still "thinking".
    wait_for(lambda: "end" in turn_log_kinds(system, turn_id))
    # The worker is free again: a new turn is answered normally.
    client = ChatKitClient(system.gateway_url, system.token("quitter"))
    try:
        assert "hello again" in client.create_thread("hello again").assistant_text()
    finally:
        client.close()


def test_a_queue_deeper_than_its_limit_refuses_new_turns_at_once(system: System) -> None:
    # Only a wedged worker is live, so the backlog stays queued (a real one would take it).
    system.service("worker-1").stop()
    system.processes.running.remove(system.service("worker-1"))
    queue = redis.Redis.from_url(system.env["REDIS_URL"])
    wedged = WorkerStatus("wedged", "host", 1, time.time(), 0, 1, time.time() + 60)
    queue.zadd(WORKERS, {wedged.worker_id: wedged.beat_at})
    backlog = [f"backlog-{n}" for n in range(5)]
    queue.lpush(keys.TURN_QUEUE, *backlog)
    try:
        client = ChatKitClient(system.gateway_url, system.token("latecomer"))
        try:
            turn = client.create_thread("hello")
        finally:
            client.close()
        assert [e["type"] for e in turn.raw_events] == ["error"], turn.raw_events
        assert "busy" in turn.raw_events[0]["message"] and turn.raw_events[0]["allow_retry"]
        assert queue.llen(keys.TURN_QUEUE) == len(backlog)  # the refused turn was not queued
    finally:
        for entry in backlog:
            queue.lrem(keys.TURN_QUEUE, 0, entry)
        queue.zrem(WORKERS, wedged.worker_id)
        queue.close()
        system.start_worker("worker-1")
