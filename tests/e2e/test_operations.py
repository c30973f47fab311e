"""Operating the running system: probes, metrics, JSON logs, usage with tool calls, the dev page."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.chatkit_client.client import ChatKitClient
from services.gateway.dev_page.page import CHATKIT_SCRIPT_URL
from shared.observability.log_context import configure_pseudonyms, hash_user_id
from shared.settings import DEFAULT_GEMINI_MODEL
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system, start_system
from tests.e2e.processes import free_port

pytestmark = pytest.mark.e2e

PSEUDONYM_SECRET = "ops-test-pseudonym-key-Qx7Lm2Vr9Tz4"


@pytest.fixture(scope="module")
def ops_system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {
        "LOG_FORMAT": "json",
        "WORKER_HEALTH_PORT": str(free_port()),
        "LOG_PSEUDONYM_SECRET": PSEUDONYM_SECRET,
    }
    with running_system(backends, tmp_path_factory, "ops", extra_env=env) as system:
        yield system


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(
    metrics: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return metrics.get((name, frozenset(labels.items())), 0.0)


def wait_until_ready(url: str, attempts: int = 200) -> httpx.Response:
    """Poll /readyz until a worker has announced itself (its first beat is at start-up)."""
    response = httpx.get(url)
    for _ in range(attempts):
        if response.status_code == 200:
            break
        time.sleep(0.1)
        response = httpx.get(url)
    return response


def usage_rows(database_url: str, user_id: str) -> list[asyncpg.Record]:
    async def query() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(
                "SELECT turn_id, requests, input_tokens, output_tokens, tool_calls"
                " FROM turn_usage WHERE user_id = $1",
                user_id,
            )
        finally:
            await conn.close()

    return asyncio.run(query())


def test_a_turn_shows_in_metrics_usage_and_json_logs(
    ops_system: System, backends: Backends
) -> None:
    gateway = ops_system.gateway_url
    assert httpx.get(f"{gateway}/healthz").json() == {"status": "ok"}
    ready = wait_until_ready(f"{gateway}/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "workers": "1 live"}

    before = samples(httpx.get(f"{gateway}/metrics").text)
    user = f"ops-{uuid.uuid4().hex[:8]}"
    client = ChatKitClient(gateway, ops_system.token(user))
    try:
        turn = client.create_thread("add task water the plants")
    finally:
        client.close()
    assert turn.status_code == 200
    assert "water the plants" in turn.assistant_text()
    turn_id = turn.headers["x-turn-id"]

    response = httpx.get(f"{gateway}/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)
    grew = {
        name: value(after, name, **labels) - value(before, name, **labels)
        for name, labels in [
            ("taskchat_turns_total", {"outcome": "completed"}),
            ("taskchat_turn_pickup_seconds_count", {}),
            ("taskchat_turn_first_token_seconds_count", {}),
            ("taskchat_turn_duration_seconds_count", {}),
            (
                "taskchat_http_requests_total",
                {"route": "/chatkit", "method": "POST", "status": "200"},
            ),
        ]
    }
    assert grew == {
        "taskchat_turns_total": 1,
        "taskchat_turn_pickup_seconds_count": 1,
        "taskchat_turn_first_token_seconds_count": 1,
        "taskchat_turn_duration_seconds_count": 1,
        "taskchat_http_requests_total": 1,
    }
    assert value(after, "taskchat_open_streams") == 0
    assert value(after, "taskchat_live_workers") == 1
    assert value(after, "taskchat_queue_depth") == 0
    assert value(after, "taskchat_worker_capacity_turns") == 50

    worker_url = f"http://127.0.0.1:{ops_system.env['WORKER_HEALTH_PORT']}"
    assert httpx.get(f"{worker_url}/healthz").json()["status"] == "ok"
    worker_metrics = samples(httpx.get(f"{worker_url}/metrics").text)
    assert value(worker_metrics, "taskchat_tool_calls_total", tool="create_task", outcome="ok") == 1
    assert (
        value(worker_metrics, "taskchat_tokens_total", model=DEFAULT_GEMINI_MODEL, kind="input") > 0
    )

    [row] = usage_rows(backends.database_url, user)
    assert row["turn_id"] == turn_id
    assert row["tool_calls"] == 1
    assert row["requests"] >= 2  # the tool call round and the answer after it

    # Logs: one JSON object per line, the turn's lines carry its id and the hashed user only.
    for name in ("gateway", "worker-1"):
        log = ops_system.service(name).log()
        assert user not in log
        lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
        assert lines, f"{name} wrote no JSON lines:\n{log}"
        for line in lines:
            assert {"time", "level", "logger", "message"} <= line.keys()
    worker_lines = [
        json.loads(line)
        for line in ops_system.service("worker-1").log().splitlines()
        if line.startswith("{")
    ]
    started = [line for line in worker_lines if line.get("turn_id") == turn_id]
    assert started, "no worker log line names the turn"
    # The same key as the services: the pseudonym is an HMAC of the user id.
    configure_pseudonyms(PSEUDONYM_SECRET)
    try:
        assert {line["user"] for line in started} == {hash_user_id(user)}
    finally:
        configure_pseudonyms(None)
    assert any(line.get("thread_id") == turn.thread_id for line in started)


def test_log_lines_of_chatkit_appear_once(ops_system: System) -> None:
    # chatkit adds its own handler when LOG_LEVEL is set: each of its lines came out twice, once
    # as plain text. chatkit logs "Received request op: ..." for every request it processes.
    client = ChatKitClient(ops_system.gateway_url, ops_system.token("ops-chatkit-log"))
    try:
        assert client.create_thread("hello").status_code == 200
    finally:
        client.close()
    log = ops_system.service("worker-1").log()
    mentions = [line for line in log.splitlines() if "Received request op: threads.create" in line]
    as_json = [json.loads(line) for line in mentions if line.startswith("{")]
    assert as_json, log
    assert len(mentions) == len(as_json)
    assert {line["logger"] for line in as_json} == {"chatkit"}


def test_dev_page_points_chatkit_at_the_gateway(ops_system: System) -> None:
    page = httpx.get(f"{ops_system.gateway_url}/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert f'"chatkitScript": "{CHATKIT_SCRIPT_URL}"' in page.text
    assert '"apiPath": "/chatkit"' in page.text
    wrapper = httpx.get(f"{ops_system.gateway_url}/dev/static/turn-fetch.js")
    assert wrapper.status_code == 200
    assert 'credentials: "include"' in wrapper.text


def test_not_ready_without_a_live_worker(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> None:
    system = start_system(backends, tmp_path_factory.mktemp("no-worker-logs"), workers=0)
    try:
        unready = httpx.get(f"{system.gateway_url}/readyz")
        assert unready.status_code == 503
        assert unready.json() == {
            "status": "unavailable",
            "checks": {"postgres": "ok", "redis": "ok", "workers": "0 live"},
        }
        assert httpx.get(f"{system.gateway_url}/healthz").status_code == 200  # alive, not ready
        system.start_worker("late-worker")
        assert wait_until_ready(f"{system.gateway_url}/readyz").status_code == 200
    finally:
        system.processes.stop_all()


def test_refused_requests_are_counted_by_route_and_status(ops_system: System) -> None:
    metrics_url = f"{ops_system.gateway_url}/metrics"
    labels = {"route": "/chatkit", "method": "POST", "status": "401"}
    before = value(samples(httpx.get(metrics_url).text), "taskchat_http_requests_total", **labels)
    refused = httpx.post(f"{ops_system.gateway_url}/chatkit", json={"type": "threads.list"})
    assert refused.status_code == 401
    after = value(samples(httpx.get(metrics_url).text), "taskchat_http_requests_total", **labels)
    assert after - before == 1
