"""`MCP_SERVERS`: the agent uses another MCP server's tools next to the seven task tools; an
unreachable server (refused, or silent past the timeout) is logged and skipped, and the built-in
tools keep working."""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from services.chatkit_client.client import ChatKitClient
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl
from tests.e2e.processes import Processes, ServiceProcess, free_port
from tests.e2e.task_doors import tool_output

pytestmark = pytest.mark.e2e

API_KEY = "weather-key"


def wait_listening(port: int, service: ServiceProcess, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{service.name} exited early:\n{service.log()}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{service.name} is not listening:\n{service.log()}")


@pytest.fixture(scope="module")
def system_with_mcp(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    processes = Processes(tmp_path_factory.mktemp("weather-logs"))
    port = free_port()
    weather = processes.start(
        "weather", "tests.e2e.weather_mcp_server", {}, "--port", str(port), "--api-key", API_KEY
    )
    # A socket that accepts connections and never answers: a server that hangs.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    servers = [
        {
            "url": f"http://127.0.0.1:{port}/mcp",
            "headers": {"X-Api-Key": API_KEY},
            "name": "weather",
        },
        {"url": f"http://127.0.0.1:{free_port()}/mcp", "name": "refused"},
        {"url": f"http://127.0.0.1:{silent.getsockname()[1]}/mcp", "name": "silent"},
    ]
    try:
        wait_listening(port, weather)
        env = {"MCP_SERVERS": json.dumps(servers), "MCP_SERVER_TIMEOUT_S": "5"}
        with running_system(backends, tmp_path_factory, "mcp-servers", env) as system:
            yield system
    finally:
        silent.close()
        processes.stop_all()


def test_agent_calls_another_servers_tool_and_skips_unreachable_ones(
    system_with_mcp: System,
) -> None:
    system = system_with_mcp
    chat = ChatKitClient(system.gateway_url, system.token(f"wanda-{uuid.uuid4().hex[:6]}"))
    with EmulatorControl(system.emulator_url) as emulator:
        try:
            emulator.reset()
            turn = chat.create_thread('call mcp_weather__forecast {"city": "Oslo"}')
            assert not turn.of_type("error"), turn.raw_events
            offered = {
                t["function"]["name"] for t in emulator.agent_requests()[0]["request"]["tools"]
            }
            assert "mcp_weather__forecast" in offered
            assert {"create_task", "list_tasks", "bulk_delete_tasks"} <= offered
            assert not any("refused" in name or "silent" in name for name in offered)
            assert "Sunny in Oslo tomorrow" in tool_output(emulator, "mcp_weather__forecast")

            emulator.reset()
            added = chat.create_thread("add task buy milk")
            assert json.loads(tool_output(emulator, "create_task"))["task"]["title"] == "buy milk"
            assert added.of_type("client_effect"), "the built-in tools still work"
        finally:
            chat.close()
    log = system.service("worker-1").log()
    assert "MCP server 'refused'" in log and "unreachable" in log, log
    assert "MCP server 'silent'" in log, log
    assert "no answer within the timeout" in log, log
