"""With an OTLP endpoint configured, one trace spans the gateway and the worker processes."""

from __future__ import annotations

import time
import uuid

import pytest

from services.chatkit_client.client import ChatKitClient
from tests.conftest import Backends
from tests.e2e.conftest import running_system
from tests.e2e.otlp_receiver import ReceivedSpan, otlp_receiver
from tests.e2e.processes import free_port

pytestmark = pytest.mark.e2e


def spans_of_turn(spans: list[ReceivedSpan], turn_id: str) -> dict[str, ReceivedSpan]:
    return {s.name: s for s in spans if s.attributes.get("taskchat.turn_id") == turn_id}


def test_a_turn_is_one_trace_across_gateway_queue_and_worker(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> None:
    port = free_port()
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}",
        # The SDK's batch export delay (5 s by default), short so the test need not wait it out.
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    with (
        otlp_receiver(port) as received,
        running_system(backends, tmp_path_factory, "traces", extra_env=env) as system,
    ):
        client = ChatKitClient(system.gateway_url, system.token(f"t-{uuid.uuid4().hex[:8]}"))
        try:
            turn = client.create_thread("hello")
        finally:
            client.close()
        assert turn.status_code == 200
        turn_id = turn.headers["x-turn-id"]
        # Spans leave in batches: poll, bounded, for both to arrive.
        for _ in range(300):
            spans = spans_of_turn(received.spans(), turn_id)
            if len(spans) == 2:
                break
            time.sleep(0.1)

    enqueue, run = spans["turn enqueue"], spans["turn run"]
    assert (enqueue.service, run.service) == ("taskchat-gateway", "taskchat-worker")
    assert run.trace_id == enqueue.trace_id
    assert run.parent_span_id == enqueue.span_id
    assert int(run.attributes["taskchat.queue_wait_ms"]) >= 0
