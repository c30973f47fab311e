"""The single-process baseline that `make bench` compares the split with: it must really work."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from services.chatkit_client.client import ChatKitClient
from services.gateway.auth.tokens import issue_token
from tests.e2e.conftest import JWT_SECRET, System
from tests.e2e.processes import free_port, wait_healthy

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def single_url(system: System) -> Iterator[str]:
    # The shared system provides the emulator and env; the baseline runs beside it.
    port = free_port()
    single = system.processes.start(
        "single", "services.single_process", {**system.env, "GATEWAY_PORT": str(port)}
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(f"{url}/healthz", single)
        yield url
    finally:
        single.stop()
        system.processes.running.remove(single)


def test_single_process_answers_and_uses_tools(single_url: str) -> None:
    client = ChatKitClient(single_url, issue_token(JWT_SECRET, f"u-{uuid.uuid4().hex[:8]}"))
    try:
        turn = client.create_thread("add buy milk")
        assert "buy milk" in turn.assistant_text()
        listed = client.request({"type": "threads.list", "params": {}}).json()
        assert [t["id"] for t in listed["data"]] == [turn.thread_id]
    finally:
        client.close()
