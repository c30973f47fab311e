"""The three doors to the task tools, behind one test interface: call a tool by its catalog name
with its catalog arguments, get its answer in the catalog's shape.

- `RestDoor`: `/api/tasks` over HTTP (each tool mapped to its route).
- `McpDoor`: `/mcp` driven by the `mcp` package's client over streamable HTTP.
- `AgentDoor`: a chat turn in which the emulated model calls the tool ("call <tool> {json}"); the
  answer is the tool output the worker sent back to the model, read from the emulator's log.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from services.chatkit_client.client import ChatKitClient, StreamedTurn
from tests.e2e.emulator_control import EmulatorControl


@dataclass
class Answer:
    """A tool's answer: its JSON result, or the error text it gave."""

    result: dict[str, Any] | None
    error: str | None
    status_code: int | None = None  # REST only

    @property
    def ok(self) -> bool:
        return self.error is None

    def shape(self, *ids: int) -> str:
        """The answer as text with `ids` replaced, to compare answers about different ids."""
        text = json.dumps({"result": self.result, "error": self.error, "status": self.status_code})
        for task_id in ids:
            text = text.replace(str(task_id), "<id>")
        return text


class Door(Protocol):
    name: str

    def call(self, tool: str, arguments: dict[str, Any]) -> Answer: ...

    def close(self) -> None: ...


class RestDoor:
    name = "rest"

    def __init__(self, gateway_url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def close(self) -> None:
        self.http.close()

    def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        args = dict(arguments)
        if tool == "create_task":
            return self._answer(self.http.post("/api/tasks", json=args), wrap="task")
        if tool == "list_tasks":
            return self._answer(self.http.get("/api/tasks", params=args))
        if tool == "bulk_complete_tasks":
            return self._answer(self.http.post("/api/tasks/bulk/complete", json=args))
        if tool == "bulk_delete_tasks":
            return self._answer(self.http.post("/api/tasks/bulk/delete", json=args))
        task_id = args.pop("task_id")
        if tool == "update_task":
            response = self.http.patch(f"/api/tasks/{task_id}", json=args)
            return self._answer(response, wrap="task")
        if tool == "delete_task":
            return self._answer(self.http.delete(f"/api/tasks/{task_id}"))
        if tool == "complete_task":
            return self._answer(self.http.post(f"/api/tasks/{task_id}/complete"), wrap="task")
        raise AssertionError(f"no REST route for {tool}")

    @staticmethod
    def _answer(response: httpx.Response, wrap: str | None = None) -> Answer:
        body = response.json()
        assert isinstance(body, dict), body
        if response.is_success:
            # Single-task routes answer the task itself; the tools wrap it as {"task": ...}.
            result = {wrap: body} if wrap else body
            return Answer(_compact(result), None, response.status_code)
        assert response.status_code < 500, response.text
        return Answer(None, str(body["detail"]), response.status_code)


def _compact(value: Any) -> Any:
    """Without null fields: single tasks carry them, compact listings leave them out."""
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_compact(v) for v in value]
    return value


class McpDoor:
    name = "mcp"

    def __init__(self, gateway_url: str, token: str) -> None:
        self.url = f"{gateway_url}/mcp"
        self.token = token

    def close(self) -> None:
        pass

    def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        result = asyncio.run(self._call(tool, arguments))
        text = "".join(getattr(block, "text", "") for block in result.content)
        if result.is_error:
            return Answer(None, text)
        structured = result.structured_content
        assert isinstance(structured, dict)
        assert json.loads(text) == structured, "the text and structured results differ"
        return Answer(_compact(structured), None)

    async def _call(self, tool: str, arguments: dict[str, Any]) -> Any:
        async with mcp_session(self.url, self.token) as session:
            return await session.call_tool(tool, arguments)


@asynccontextmanager
async def mcp_session(url: str, token: str) -> AsyncIterator[ClientSession]:
    """An initialized MCP client session to `url` with the token as Bearer."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


class AgentDoor:
    name = "agent"

    def __init__(self, gateway_url: str, emulator_url: str, token: str) -> None:
        self.chat = ChatKitClient(gateway_url, token)
        self.emulator = EmulatorControl(emulator_url)
        self.last_turn: StreamedTurn | None = None

    def close(self) -> None:
        self.chat.close()
        self.emulator.close()

    def call(self, tool: str, arguments: dict[str, Any]) -> Answer:
        self.emulator.reset()
        turn = self.chat.create_thread(f"call {tool} {json.dumps(arguments)}")
        self.last_turn = turn
        assert turn.status_code == 200
        assert not turn.of_type("error"), turn.raw_events
        output = tool_output(self.emulator, tool)
        parsed = json.loads(output)
        assert isinstance(parsed, dict), output
        if "error" in parsed:
            return Answer(None, str(parsed["error"]))
        return Answer(_compact(parsed), None)


def tool_output(emulator: EmulatorControl, tool: str) -> str:
    """The output of the one `tool` call the worker sent back to the model."""
    for exchange in reversed(emulator.agent_requests()):
        messages = exchange["request"]["messages"]
        calls = {
            call["id"]: call["function"]["name"]
            for message in messages
            if message.get("role") == "assistant"
            for call in message.get("tool_calls") or []
        }
        for message in reversed(messages):
            if message.get("role") == "tool" and calls.get(message["tool_call_id"]) == tool:
                content = message["content"]
                return content if isinstance(content, str) else json.dumps(content)
    raise AssertionError(f"the model never got a result from {tool}")
