"""What MCP clients and the frontend see of the task doors: the MCP tool list, the OpenAPI
schema, REST routes beyond the seven tools (GET one, PUT), and fuzzing of the REST API from its
own schema (no input may cause a 5xx)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from shared.tasks.operations.catalog import CATALOG
from tests.e2e.conftest import System
from tests.e2e.task_doors import mcp_session

pytestmark = pytest.mark.e2e

FUZZ_EXAMPLES_PER_OPERATION = 15


def test_mcp_lists_the_seven_tools_with_the_catalog_schemas(system: System) -> None:
    async def list_tools() -> Any:
        async with mcp_session(f"{system.gateway_url}/mcp", system.token("ivan")) as session:
            return await session.list_tools()

    listed = asyncio.run(list_tools())
    tools = {tool.name: tool for tool in listed.tools}
    assert list(tools) == [operation.name for operation in CATALOG]
    for operation in CATALOG:
        tool = tools[operation.name]
        assert tool.description == operation.description
        assert tool.input_schema == operation.schema
        assert tool.output_schema == operation.result.model_json_schema()
    assert tools["list_tasks"].annotations is not None
    assert tools["list_tasks"].annotations.read_only_hint is True


def test_mcp_unknown_tool_and_bad_arguments_are_error_results(system: System) -> None:
    async def calls() -> list[Any]:
        async with mcp_session(f"{system.gateway_url}/mcp", system.token("ivan")) as session:
            return [
                await session.call_tool("drop_all_tasks", {}),
                await session.call_tool("complete_task", {"task_id": "three"}),
            ]

    unknown, invalid = asyncio.run(calls())
    assert unknown.is_error and "Unknown tool 'drop_all_tasks'" in unknown.content[0].text
    assert invalid.is_error
    assert "Invalid arguments for complete_task: task_id" in invalid.content[0].text


def test_rest_get_and_put(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token(f'paula-{uuid.uuid4().hex[:6]}')}"}
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=10) as http:
        created = http.post(
            "/api/tasks",
            json={
                "title": "rent",
                "description": "flat",
                "priority": "high",
                "due_date": "2026-12-04",
            },
        )
        assert created.status_code == 201, created.text
        task = created.json()
        assert http.get(f"/api/tasks/{task['id']}").json() == task

        # PUT replaces: fields left out become empty.
        replaced = http.put(f"/api/tasks/{task['id']}", json={"title": "pay rent"})
        assert replaced.status_code == 200, replaced.text
        body = replaced.json()
        assert (body["title"], body["description"], body["priority"], body["due_date"]) == (
            "pay rent",
            None,
            None,
            None,
        )
        assert http.get("/api/tasks/8000000000000").status_code == 404
        assert http.put("/api/tasks/8000000000000", json={"title": "x"}).status_code == 404
        assert http.put(f"/api/tasks/{task['id']}", json={}).status_code == 422


def test_openapi_schema_documents_the_task_api(system: System) -> None:
    schema = httpx.get(f"{system.gateway_url}/schema/openapi.json", timeout=10).json()
    paths = schema["paths"]
    assert set(paths["/api/tasks"]) == {"get", "post"}
    assert set(paths["/api/tasks/{task_id}"]) == {"get", "put", "patch", "delete"}
    assert "post" in paths["/api/tasks/{task_id}/complete"]
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    create = schema["components"]["schemas"]["CreateTaskArgs"]
    assert create["properties"]["title"]["maxLength"] == 255


def test_fuzzing_the_rest_api_finds_no_server_error(system: System) -> None:
    headers = {"Authorization": f"Bearer {system.token(f'fuzz-{uuid.uuid4().hex[:6]}')}"}
    # A few tasks of the fuzzing user, so some generated ids and bodies hit real rows.
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=10) as http:
        for title in ("one", "two", "three"):
            assert http.post("/api/tasks", json={"title": title}).status_code == 201
    schema = schemathesis.openapi.from_url(f"{system.gateway_url}/schema/openapi.json")
    operations = []
    for result in schema.include(path_regex="^/api/tasks").get_all_operations():
        assert isinstance(result, Ok), result
        operations.append(result.ok())
    assert len(operations) == 10  # nine task operations and the search
    calls = 0
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=FUZZ_EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def exercise(case: Any) -> None:
                nonlocal calls
                calls += 1
                response = case.call(base_url=system.gateway_url, headers=headers, timeout=10)
                case.validate_response(response, checks=[not_a_server_error])

            exercise()
    assert calls > 100
