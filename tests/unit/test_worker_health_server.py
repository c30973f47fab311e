"""The worker's health and metrics port, over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.agent.observability.health_server import WorkerHealthServer
from services.agent.observability.metrics import record_tool_call


class Heart:
    beating = True


@pytest.fixture
async def served() -> AsyncIterator[tuple[httpx.AsyncClient, Heart]]:
    heart = Heart()
    server = WorkerHealthServer("worker-7", lambda: heart.beating)
    await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            yield client, heart
    finally:
        await server.close()


async def test_healthz_follows_the_heartbeat(served: tuple[httpx.AsyncClient, Heart]) -> None:
    client, heart = served
    alive = await client.get("/healthz")
    assert (alive.status_code, alive.json()) == (200, {"status": "ok", "worker_id": "worker-7"})
    heart.beating = False
    dead = await client.get("/healthz")
    assert dead.status_code == 503


async def test_metrics_in_prometheus_text(served: tuple[httpx.AsyncClient, Heart]) -> None:
    client, _ = served
    record_tool_call("health_test_tool", failed=True)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    values = {
        (s.name, s.labels.get("tool"), s.labels.get("outcome")): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    assert values[("taskchat_tool_calls_total", "health_test_tool", "error")] == 1


async def test_other_paths_and_methods_are_4xx(served: tuple[httpx.AsyncClient, Heart]) -> None:
    client, _ = served
    assert (await client.get("/nope")).status_code == 404
    assert (await client.post("/healthz")).status_code == 405
