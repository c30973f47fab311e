"""Delivery of a turn's events: sequenced ids, re-joining with Last-Event-ID, keepalives, one turn
per thread, and disconnects. Each test checks that the stored thread is what the client was shown.

The emulator streams 25 tokens a second here, so a long message gives a turn several seconds long.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import threads_create, user_input
from shared.turns import keys
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import LONG_MESSAGE, SLOW_MODEL_ENV, EmulatorControl
from tests.e2e.processes import free_port, wait_healthy
from tests.e2e.sse import (
    assert_stored_as_shown,
    done_items,
    read_until,
    sse_from,
    sse_messages,
    stored_items,
    text_of,
    thread_id_of,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def continuing(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """Turns run on when their client leaves, a second turn on a thread waits for the first;
    quick keepalives and model-call timeout."""
    env = {**SLOW_MODEL_ENV, "ON_DISCONNECT": "continue", "MULTITASK": "enqueue",
           "SSE_HEARTBEAT_S": "0.4", "GEMINI_TIMEOUT_S": "3", "GEMINI_MAX_RETRIES": "0",
           "TURN_TIMEOUT_S": "6"}  # fmt: skip
    with running_system(backends, tmp_path_factory, "e2e-continue", env) as running:
        yield running


@pytest.fixture(scope="module")
def cancelling(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    """A departing client cancels its turn (`ON_DISCONNECT=cancel`, for clients that cannot send
    the explicit stop); a busy thread refuses a second turn (the default)."""
    env = {**SLOW_MODEL_ENV, "ON_DISCONNECT": "cancel"}
    with running_system(backends, tmp_path_factory, "e2e-cancel", env) as running:
        yield running


@pytest.fixture
def clients() -> Iterator[Callable[[System], ChatKitClient]]:
    """Makes clients of new users; closes them at the end of the test."""
    made: list[ChatKitClient] = []

    def new_client(system: System) -> ChatKitClient:
        made.append(ChatKitClient(system.gateway_url, system.token(f"u-{uuid.uuid4().hex[:8]}")))
        return made[-1]

    yield new_client
    for client in made:
        client.close()


def add_message(thread_id: str, text: str) -> dict[str, object]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(text)},
    }


def test_reconnecting_with_last_event_id_gets_exactly_the_missed_events(
    continuing: System, clients: Callable[[System], ChatKitClient]
) -> None:
    client = clients(continuing)
    with client.http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as response:
        turn_id = response.headers["x-turn-id"]
        first = read_until(sse_messages(response.iter_lines()), 5, "thread.item.updated")
    # The connection is gone mid-answer; the turn goes on (ON_DISCONNECT=continue).
    last_id = first[-1].event_id
    assert last_id is not None and last_id.startswith(f"{turn_id}:")
    with client.http.stream(
        "POST", "/chatkit", json=threads_create("ignored"), headers={"Last-Event-ID": last_id}
    ) as response:
        assert response.status_code == 200
        rest = list(sse_messages(response.iter_lines()))
    with client.http.stream("GET", f"/chatkit/turns/{turn_id}/events") as response:
        everything = [m for m in sse_messages(response.iter_lines()) if m.data is not None]

    shown = [m for m in first + rest if m.data is not None]
    assert [m.event_id for m in shown] == [m.event_id for m in everything]
    numbers = [int(m.event_id.split(":")[1]) for m in shown if m.event_id]
    assert len(numbers) == len(shown) and numbers == sorted(set(numbers))
    assert rest[-1].type == "thread.updated" or rest[-1].type == "thread.item.done"
    thread_id = thread_id_of(first)
    stored = assert_stored_as_shown(client, thread_id, shown)
    assert text_of(stored[-1]).startswith("You said: please repeat word0")


def test_only_the_author_may_rejoin_and_ids_are_checked(
    continuing: System, clients: Callable[[System], ChatKitClient]
) -> None:
    author, stranger = clients(continuing), clients(continuing)
    turn = author.create_thread("hello")
    turn_id = turn.headers["x-turn-id"]
    assert stranger.http.get(f"/chatkit/turns/{turn_id}/events").status_code == 404
    unknown = stranger.http.get(f"/chatkit/turns/{uuid.uuid4().hex}/events")
    assert unknown.status_code == 404
    assert (
        unknown.json()["detail"]
        == stranger.http.get(f"/chatkit/turns/{turn_id}/events").json()["detail"]
    )
    bad = author.http.post("/chatkit", json={}, headers={"Last-Event-ID": "not-an-id"})
    assert bad.status_code == 400 and "Last-Event-ID" in bad.json()["detail"]


def test_keepalive_comments_while_the_model_is_silent_then_a_timeout_error(
    continuing: System, clients: Callable[[System], ChatKitClient]
) -> None:
    client = clients(continuing)
    with client.http.stream("POST", "/chatkit", json=threads_create("hi [[fail:hang]]")) as r:
        messages = list(sse_messages(r.iter_lines()))
    types = [m.type for m in messages]
    assert types.count("comment") >= 2, types  # 3 s of silence, a keepalive every 0.4 s
    errors = [m.data for m in messages if m.type == "error" and m.data]
    assert len(errors) == 1 and errors[0]["allow_retry"] is True, types
    thread_id = thread_id_of(messages)
    assert_stored_as_shown(client, thread_id, messages)  # the user's message, kept for a retry


def test_a_turn_over_its_time_budget_ends_with_an_error_and_keeps_the_partial_answer(
    continuing: System, clients: Callable[[System], ChatKitClient]
) -> None:
    client = clients(continuing)
    very_long = "please repeat " + " ".join(f"word{n}" for n in range(250))  # 10 s at 25/s
    with client.http.stream("POST", "/chatkit", json=threads_create(very_long)) as r:
        shown = list(sse_messages(r.iter_lines()))
    errors = [m.data for m in shown if m.type == "error" and m.data]
    assert len(errors) == 1 and "too long" in errors[0]["message"], [m.type for m in shown]
    shown_text = "".join(
        m.data["update"].get("delta", "")
        for m in shown
        if m.data and m.type == "thread.item.updated"
    )
    stored = stored_items(client, thread_id_of(shown))
    assert [i["type"] for i in stored] == ["user_message", "assistant_message"]
    partial = text_of(stored[1])
    assert shown_text and partial.startswith(shown_text) and "word249" not in partial


def test_a_second_message_while_a_turn_runs_is_refused_clearly(
    cancelling: System, clients: Callable[[System], ChatKitClient]
) -> None:
    client = clients(cancelling)
    first = client.create_thread("hello")
    thread_id = first.thread_id
    with client.http.stream("POST", "/chatkit", json=add_message(thread_id, LONG_MESSAGE)) as r:
        messages = sse_messages(r.iter_lines())
        running = read_until(messages, 2, "thread.item.updated")
        refused = client.stream(add_message(thread_id, "me too"))
        running += list(messages)
    assert [e["type"] for e in refused.raw_events] == ["error"], refused.raw_events
    assert "still being written" in refused.raw_events[0]["message"]
    assert_stored_as_shown(client, thread_id, running, before=2)
    # Once the turn is over, the thread takes messages again.
    after = client.stream(add_message(thread_id, "now?"))
    assert "You said: now?" in after.assistant_text()


def test_the_thread_is_free_before_its_answer_ends(
    cancelling: System, clients: Callable[[System], ChatKitClient]
) -> None:
    """A client that sends its next message as soon as the stream ends (as fast users and
    scripts do) must never find the thread still busy: the worker frees the thread before it
    logs the turn's `end`. Redis's keyspace notifications give the order of the two writes."""
    client = clients(cancelling)
    thread_id = client.create_thread("hello").thread_id
    url = cancelling.env["REDIS_URL"]
    db = int(url.rsplit("/", 1)[1])
    admin = redis.Redis.from_url(url)
    admin.config_set("notify-keyspace-events", "Kgt")  # generic (del) and stream (xadd) writes
    watcher = admin.pubsub()  # type: ignore[no-untyped-call]
    try:
        lock_key = keys.thread_turn(thread_id)
        watcher.psubscribe(f"__keyspace@{db}__:{lock_key}", f"__keyspace@{db}__:*:events")
        turn = client.stream(add_message(thread_id, "quick"))
        assert "You said: quick" in turn.assistant_text()
        writes = []
        while (message := watcher.get_message(timeout=1)) is not None:
            if message["type"] == "pmessage" and message["data"] in (b"del", b"xadd"):
                writes.append((message["channel"].decode().endswith(lock_key), message["data"]))
        assert (True, b"del") in writes, writes  # the worker freed the thread...
        assert writes[-1] == (False, b"xadd"), writes  # ...and only then wrote `end`
    finally:
        watcher.close()
        admin.config_set("notify-keyspace-events", "")


def test_with_multitask_enqueue_a_second_message_waits_its_turn(
    continuing: System, clients: Callable[[System], ChatKitClient]
) -> None:
    client = clients(continuing)
    thread_id = client.create_thread("hello").thread_id
    with client.http.stream("POST", "/chatkit", json=add_message(thread_id, LONG_MESSAGE)) as r:
        messages = sse_messages(r.iter_lines())
        first = read_until(messages, 2, "thread.item.updated")
        second = client.stream(add_message(thread_id, "and then this"))  # waits, then streams
        first += list(messages)
    assert "You said: and then this" in second.assistant_text()
    stored = stored_items(client, thread_id)[2:]
    assert [(i["type"], text_of(i)[:30]) for i in stored] == [
        ("user_message", LONG_MESSAGE[:30]),
        ("assistant_message", f"You said: {LONG_MESSAGE}"[:30]),
        ("user_message", "and then this"),
        ("assistant_message", "You said: and then this"),
    ]
    shown = [m for m in first if m.data] + sse_from(second.raw_events)
    assert_stored_as_shown(client, thread_id, shown, before=2)


def test_two_gateways_cannot_start_two_turns_on_one_thread(
    cancelling: System, clients: Callable[[System], ChatKitClient]
) -> None:
    port = free_port()
    second = cancelling.processes.start(
        "gateway-2", "services.gateway", {**cancelling.env, "GATEWAY_PORT": str(port)}
    )
    wait_healthy(f"http://127.0.0.1:{port}/healthz", second)
    client = clients(cancelling)
    other = ChatKitClient(f"http://127.0.0.1:{port}", client.http.headers["Authorization"][7:])
    try:
        thread_id = client.create_thread("hello").thread_id
        with client.http.stream("POST", "/chatkit", json=add_message(thread_id, LONG_MESSAGE)) as r:
            messages = sse_messages(r.iter_lines())
            running = read_until(messages, 2, "thread.item.updated")
            refused = other.stream(add_message(thread_id, "from another tab"))
            running += list(messages)
        assert [e["type"] for e in refused.raw_events] == ["error"], refused.raw_events
        assert_stored_as_shown(client, thread_id, running, before=2)
    finally:
        other.close()
        second.stop()
        cancelling.processes.running.remove(second)


def test_disconnecting_cancels_the_turn_and_keeps_the_partial_answer(
    cancelling: System, clients: Callable[[System], ChatKitClient]
) -> None:
    client = clients(cancelling)
    with EmulatorControl(cancelling.emulator_url) as emulator:
        emulator.reset()
        with client.http.stream("POST", "/chatkit", json=threads_create(LONG_MESSAGE)) as r:
            shown = read_until(sse_messages(r.iter_lines()), 5, "thread.item.updated")
        left_at = time.monotonic()
        thread_id = thread_id_of(shown)
        answers = emulator.agent_requests()
        assert answers, "the model was called"
        deadline = time.monotonic() + 10
        while answers[-1].get("stream") != "abandoned" and time.monotonic() < deadline:
            time.sleep(0.02)
            answers = emulator.agent_requests()
        closed_after_s = time.monotonic() - left_at
    assert answers[-1]["stream"] == "abandoned", answers[-1]
    print(f"model request closed {closed_after_s * 1000:.0f} ms after the client left")
    # chatkit stored the partial answer: at least what was shown, less than the whole reply.
    deadline = time.monotonic() + 10
    while len(stored_items(client, thread_id)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stored = stored_items(client, thread_id)
    assert [i["type"] for i in stored] == ["user_message", "assistant_message"], stored
    partial = text_of(stored[1])
    assert partial.startswith("You said: please repeat") and "word59" not in partial
    assert done_items(shown)[0]["id"] == stored[0]["id"]
