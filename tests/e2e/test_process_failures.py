"""Processes dying or restarting under a running turn: a worker killed or stopped, a gateway
stopped, Redis restarted, PostgreSQL stopped. Each test checks what the client was shown against
what was stored, and that the system works again afterwards.

The emulator streams 25 tokens a second here, so a long message gives a turn several seconds long.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import threads_create
from services.launcher.embedded_postgres import EmbeddedPostgres
from services.launcher.embedded_redis import EmbeddedRedis
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import LONG_MESSAGE, LONG_REPLY, SLOW_MODEL_ENV
from tests.e2e.processes import free_port, wait_healthy
from tests.e2e.seed import fetch_value
from tests.e2e.sse import (
    assert_stored_as_shown,
    read_until,
    sse_messages,
    stored_items,
    text_of,
    thread_id_of,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    with running_system(backends, tmp_path_factory, "e2e-processes", SLOW_MODEL_ENV) as running:
        yield running


@pytest.fixture
def client(system: System) -> Iterator[ChatKitClient]:
    chat = ChatKitClient(system.gateway_url, system.token(f"u-{uuid.uuid4().hex[:8]}"))
    yield chat
    chat.close()


def turn_status(system: System, turn_id: str) -> object:
    return fetch_value(
        system.env["DATABASE_URL"], "SELECT status FROM turns WHERE turn_id = $1", turn_id
    )


def replace_service(system: System, name: str) -> None:
    system.processes.running.remove(system.service(name))
    if name.startswith("worker"):
        system.start_worker(name)
    else:
        gateway = system.processes.start(name, "services.gateway", system.env)
        wait_healthy(f"{system.gateway_url}/healthz", gateway)


def test_killed_worker_fails_the_turn_keeps_the_message_and_retry_works(
    system: System, client: ChatKitClient
) -> None:
    with client.http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as response:
        turn_id = response.headers["x-turn-id"]
        messages = sse_messages(response.iter_lines())
        shown = read_until(messages, 3, "thread.item.updated")
        system.service("worker-1").kill()  # kill -9, mid-answer
        killed_at = time.monotonic()
        shown += list(messages)
        noticed_after_s = time.monotonic() - killed_at
    print(f"worker death noticed after {noticed_after_s:.2f} s")
    assert shown[-1].type == "error" and shown[-1].data and shown[-1].data["allow_retry"]
    assert noticed_after_s < 10
    assert turn_status(system, turn_id) == "failed"
    thread_id = thread_id_of(shown)
    [user_message] = assert_stored_as_shown(client, thread_id, shown)  # the message is kept

    replace_service(system, "worker-1")
    retried = client.stream(
        {
            "type": "threads.retry_after_item",
            "params": {"thread_id": thread_id, "item_id": user_message["id"]},
        }
    )
    assert retried.assistant_text() == LONG_REPLY
    assert [i["type"] for i in stored_items(client, thread_id)] == [
        "user_message",
        "assistant_message",
    ]


def test_stopped_worker_finishes_its_turn_first(system: System, client: ChatKitClient) -> None:
    worker = system.service("worker-1")
    with client.http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as response:
        turn_id = response.headers["x-turn-id"]
        messages = sse_messages(response.iter_lines())
        shown = read_until(messages, 3, "thread.item.updated")
        worker.process.terminate()  # SIGTERM, mid-answer
        shown += list(messages)
    assert worker.process.wait(timeout=30) == 0
    assert "error" not in [m.type for m in shown]
    stored = assert_stored_as_shown(client, thread_id_of(shown), shown)
    assert text_of(stored[-1]) == LONG_REPLY
    assert turn_status(system, turn_id) == "completed"
    replace_service(system, "worker-1")


def test_stopped_gateway_lets_its_open_stream_finish(system: System, client: ChatKitClient) -> None:
    gateway = system.service("gateway")
    with client.http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as response:
        messages = sse_messages(response.iter_lines())
        shown = read_until(messages, 3, "thread.item.updated")
        gateway.process.terminate()  # SIGTERM, mid-answer
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):  # no new connections while it drains
            httpx.get(f"{system.gateway_url}/healthz")
        shown += list(messages)
    # uvicorn exits by re-raising the signal it stopped on, once it has drained.
    assert gateway.process.wait(timeout=30) in (0, -signal.SIGTERM)
    assert "error" not in [m.type for m in shown]
    replace_service(system, "gateway")
    stored = assert_stored_as_shown(client, thread_id_of(shown), shown)
    assert text_of(stored[-1]) == LONG_REPLY


@pytest.fixture
def own_redis(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[System, EmbeddedRedis]]:
    """A system on a Redis server of its own, which the test may restart."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("own-redis"), free_port())
    server.start()
    try:
        backends = Backends(database_url, server.url().rpartition("/")[0])
        with running_system(
            backends, tmp_path_factory, "e2e-redis-restart", SLOW_MODEL_ENV
        ) as running:
            yield running, server
    finally:
        server.stop()


def test_redis_restart_fails_the_running_turn_cleanly_and_the_system_recovers(
    own_redis: tuple[System, EmbeddedRedis],
) -> None:
    system, server = own_redis
    client = ChatKitClient(system.gateway_url, system.token("redis-user"))
    try:
        with client.http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as r:
            messages = sse_messages(r.iter_lines())
            shown = read_until(messages, 3, "thread.item.updated")
            server.stop()
            shown += list(messages)
        assert shown[-1].type == "error" and shown[-1].data and shown[-1].data["allow_retry"]
        server.start()
        # Workers and gateway reconnect by themselves; the worker is live again within a beat.
        answer = _eventually(lambda: client.create_thread("back again").assistant_text())
        assert answer == "You said: back again"
        # The interrupted turn kept what the client saw completed: the user's message.
        assert_stored_as_shown(client, thread_id_of(shown), shown)
        for service in system.processes.running:
            assert service.process.poll() is None, f"{service.name} died:\n{service.log()}"
    finally:
        client.close()


@pytest.fixture
def own_postgres(
    redis_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[System, EmbeddedPostgres]]:
    """A system on a PostgreSQL server of its own, which the test may stop."""
    # Not pytest's tmp_path: PostgreSQL runs as an unprivileged user that must reach its data.
    with tempfile.TemporaryDirectory(prefix="taskchat-pg-outage-") as state:
        os.chmod(state, 0o755)
        server = EmbeddedPostgres(Path(state) / "data", free_port())
        server.start()
        try:
            server.ensure_database("taskchat")
            backends = Backends(server.url("taskchat"), redis_server_url)
            with running_system(
                backends, tmp_path_factory, "e2e-pg-outage", SLOW_MODEL_ENV
            ) as running:
                yield running, server
        finally:
            server.stop()


def test_postgres_outage_answers_503_or_an_error_event_then_recovers(
    own_postgres: tuple[System, EmbeddedPostgres],
) -> None:
    system, server = own_postgres
    client = ChatKitClient(system.gateway_url, system.token("pg-user"), timeout_s=20)
    try:
        thread_id = client.create_thread("before").thread_id
        server.stop()
        started = time.monotonic()
        listed = client.request({"type": "threads.list", "params": {}})
        assert listed.status_code == 503, listed.text
        assert listed.json()["detail"]
        streamed = client.create_thread("during")
        assert [e["type"] for e in streamed.raw_events][-1] == "error", streamed.raw_events
        assert time.monotonic() - started < 15  # answers, not hangs
        server.start()
        answer = _eventually(lambda: client.create_thread("after").assistant_text())
        assert answer == "You said: after"
        items = stored_items(client, thread_id)
        assert [text_of(i) for i in items] == ["before", "You said: before"]
    finally:
        client.close()


def _eventually(attempt: Callable[[], str], timeout_s: float = 20) -> str:
    """The first non-empty answer of `attempt` (the system is still reconnecting before it)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            answer = attempt()
        except httpx.HTTPError:
            answer = ""
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(0.2)
