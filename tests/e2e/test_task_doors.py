"""Every task tool through every door (REST, MCP, the agent), against the real system.

The same scenario runs through each door, so the three give the same answers; the cross-user
test shows another user's task id answers exactly like an unknown one and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import System
from tests.e2e.task_doors import AgentDoor, Door, McpDoor, RestDoor

pytestmark = pytest.mark.e2e

UNKNOWN_ID = 8_000_000_000_000
DOOR_NAMES = ("rest", "mcp", "agent")


def open_door(system: System, kind: str, user: str) -> Door:
    token = system.token(user)
    if kind == "rest":
        return RestDoor(system.gateway_url, token)
    if kind == "mcp":
        return McpDoor(system.gateway_url, token)
    return AgentDoor(system.gateway_url, system.emulator_url, token)


def new_user(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(params=DOOR_NAMES)
def door(request: pytest.FixtureRequest, system: System) -> Iterator[Door]:
    opened = open_door(system, request.param, new_user("alice"))
    try:
        yield opened
    finally:
        opened.close()


def ok(door: Door, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    answer = door.call(tool, arguments)
    assert answer.ok, f"{door.name} {tool}: {answer.error}"
    assert answer.result is not None
    return answer.result


def fails(door: Door, tool: str, arguments: dict[str, Any], expected: str) -> str:
    answer = door.call(tool, arguments)
    assert not answer.ok, f"{door.name} {tool} {arguments} should fail: {answer.result}"
    assert answer.error is not None
    assert expected.lower() in answer.error.lower(), answer.error
    return answer.error


def test_every_tool(door: Door) -> None:
    rent = ok(
        door,
        "create_task",
        {"title": "  pay rent  ", "due_date": "2026-12-04", "priority": "high"},
    )["task"]
    assert (rent["title"], rent["due_date"], rent["priority"]) == ("pay rent", "2026-12-04", "high")
    assert rent["completed"] is False
    milk = ok(door, "create_task", {"title": "buy milk", "description": "two litres"})["task"]
    assert milk["description"] == "two litres" and "priority" not in milk

    listed = ok(door, "list_tasks", {})
    assert listed["status"] == "all" and listed["count"] == listed["total"] == 2
    assert "note" not in listed
    # Newest first, compact: no timestamps, empty optional fields left out.
    assert listed["tasks"] == [
        {"id": milk["id"], "title": "buy milk", "completed": False, "description": "two litres"},
        {
            "id": rent["id"],
            "title": "pay rent",
            "completed": False,
            "due_date": "2026-12-04",
            "priority": "high",
        },
    ]

    changed = ok(
        door,
        "update_task",
        {
            "task_id": milk["id"],
            "title": "buy oat milk",
            "priority": "low",
            "clear": ["description"],
        },
    )["task"]
    assert (changed["title"], changed["priority"]) == ("buy oat milk", "low")
    assert "description" not in changed

    done = ok(door, "complete_task", {"task_id": milk["id"]})["task"]
    assert done["completed"] is True
    again = ok(door, "complete_task", {"task_id": milk["id"]})["task"]
    assert again["completed"] is True, "completing twice is not an error"
    completed = ok(door, "list_tasks", {"status": "completed"})
    assert [t["id"] for t in completed["tasks"]] == [milk["id"]]
    pending = ok(door, "list_tasks", {"status": "pending"})
    assert [t["id"] for t in pending["tasks"]] == [rent["id"]]

    deleted = ok(door, "delete_task", {"task_id": rent["id"]})["deleted"]
    assert deleted["id"] == rent["id"] and deleted["title"] == "pay rent"
    fails(door, "delete_task", {"task_id": rent["id"]}, f"Task {rent['id']} was not found")

    extra = ok(door, "create_task", {"title": "call mum"})["task"]
    bulk_done = ok(door, "bulk_complete_tasks", {"task_ids": [extra["id"], UNKNOWN_ID]})
    assert bulk_done == {"completed": [extra["id"]], "not_found": [UNKNOWN_ID]}
    bulk_gone = ok(door, "bulk_delete_tasks", {"task_ids": [milk["id"], extra["id"], UNKNOWN_ID]})
    assert bulk_gone == {"deleted": [milk["id"], extra["id"]], "not_found": [UNKNOWN_ID]}
    assert ok(door, "list_tasks", {}) == {"status": "all", "count": 0, "total": 0, "tasks": []}


def test_invalid_arguments_are_clear_errors(door: Door) -> None:
    fails(door, "create_task", {"title": "x" * 256}, "255")
    fails(door, "create_task", {"title": "   "}, "title")
    fails(door, "create_task", {"title": "ok", "description": "d" * 2001}, "2000")
    fails(door, "create_task", {"title": "ok", "priority": "urgent"}, "priority")
    fails(door, "create_task", {"title": "ok", "due_date": "next friday"}, "due_date")
    fails(door, "list_tasks", {"status": "done"}, "status")
    fails(door, "bulk_complete_tasks", {"task_ids": []}, "task_ids")
    fails(door, "bulk_delete_tasks", {"task_ids": list(range(1, 102))}, "100")
    task = ok(door, "create_task", {"title": "keep me"})["task"]
    fails(door, "update_task", {"task_id": task["id"]}, "at least one change")
    fails(door, "update_task", {"task_id": task["id"], "title": "y" * 300}, "255")
    listed = ok(door, "list_tasks", {})
    assert [t["title"] for t in listed["tasks"]] == ["keep me"], "nothing invalid was stored"


def test_rest_validation_errors_are_422(system: System) -> None:
    door = RestDoor(system.gateway_url, system.token(new_user("vera")))
    try:
        invalid: list[tuple[str, dict[str, Any]]] = [
            ("create_task", {"title": "x" * 256}),
            ("create_task", {"title": " "}),
            ("list_tasks", {"status": "done"}),
            ("bulk_delete_tasks", {"task_ids": []}),
        ]
        for tool, arguments in invalid:
            assert door.call(tool, arguments).status_code == 422, (tool, arguments)
        task = door.call("create_task", {"title": "t"}).result
        assert task is not None
        answer = door.call("update_task", {"task_id": task["task"]["id"]})
        assert answer.status_code == 422
        missing = door.call("delete_task", {"task_id": UNKNOWN_ID})
        assert missing.status_code == 404
    finally:
        door.close()


@pytest.mark.parametrize("kind", DOOR_NAMES)
def test_another_users_task_is_unknown_through_every_tool(system: System, kind: str) -> None:
    owner = RestDoor(system.gateway_url, system.token(new_user("olga")))
    stranger = open_door(system, kind, new_user("mallory"))
    try:
        task = owner.call(
            "create_task", {"title": "secret", "description": "d", "priority": "medium"}
        ).result
        assert task is not None
        theirs = task["task"]["id"]
        before = owner.http.get(f"/api/tasks/{theirs}").json()

        calls: list[tuple[str, Callable[[int], dict[str, Any]]]] = [
            ("update_task", lambda i: {"task_id": i, "title": "pwned"}),
            ("complete_task", lambda i: {"task_id": i}),
            ("delete_task", lambda i: {"task_id": i}),
            ("bulk_complete_tasks", lambda i: {"task_ids": [i]}),
            ("bulk_delete_tasks", lambda i: {"task_ids": [i]}),
        ]
        for tool, arguments in calls:
            foreign = stranger.call(tool, arguments(theirs))
            unknown = stranger.call(tool, arguments(UNKNOWN_ID))
            assert foreign.shape(theirs) == unknown.shape(UNKNOWN_ID), (kind, tool)
            assert foreign.error is not None or foreign.result == {
                "completed" if tool == "bulk_complete_tasks" else "deleted": [],
                "not_found": [theirs],
            }

        listed = stranger.call("list_tasks", {})
        assert listed.result is not None and listed.result["tasks"] == []
        created = stranger.call("create_task", {"title": "mine"}).result
        assert created is not None
        assert owner.http.get(f"/api/tasks/{theirs}").json() == before, "nothing changed"
        owners_list = owner.call("list_tasks", {}).result
        assert owners_list is not None
        assert [t["id"] for t in owners_list["tasks"]] == [theirs]
    finally:
        owner.close()
        stranger.close()


def test_agent_streams_tasks_changed_once_per_changing_call(system: System) -> None:
    door = AgentDoor(system.gateway_url, system.emulator_url, system.token(new_user("effie")))
    try:
        task = ok(door, "create_task", {"title": "water plants"})["task"]
        assert door.last_turn is not None
        effects = door.last_turn.of_type("client_effect")
        assert effects == [
            {"type": "client_effect", "name": "tasks_changed", "data": {"tool": "create_task"}}
        ]

        ok(door, "list_tasks", {})
        assert door.last_turn.of_type("client_effect") == [], "listing changes nothing"
        fails(door, "delete_task", {"task_id": UNKNOWN_ID}, "not found")
        assert door.last_turn.of_type("client_effect") == [], "a failed call changes nothing"
        ok(door, "bulk_complete_tasks", {"task_ids": [task["id"]]})
        assert [e["name"] for e in door.last_turn.of_type("client_effect")] == ["tasks_changed"]
    finally:
        door.close()


def test_list_is_bounded_with_a_note(system: System) -> None:
    user = new_user("lotte")
    rest = RestDoor(system.gateway_url, system.token(user))
    agent = AgentDoor(system.gateway_url, system.emulator_url, system.token(user))
    try:
        for number in range(53):
            rest.call("create_task", {"title": f"task {number}"})
        for door in (rest, agent):
            listed = ok(door, "list_tasks", {})
            assert (listed["count"], listed["total"]) == (50, 53), door.name
            assert listed["tasks"][0]["title"] == "task 52", "newest first"
            assert "50 newest of 53" in listed["note"]
    finally:
        rest.close()
        agent.close()


def test_unauthenticated_requests_are_401(system: System) -> None:
    for method, path in [("GET", "/api/tasks"), ("POST", "/api/tasks/1/complete")]:
        response = httpx.request(method, f"{system.gateway_url}{path}", timeout=10)
        assert response.status_code == 401, (path, response.text)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = httpx.post(
            f"{system.gateway_url}/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={**headers, "Accept": "application/json, text/event-stream"},
            timeout=10,
        )
        assert response.status_code == 401, response.text
        assert response.json()["detail"]
        assert response.headers["www-authenticate"].startswith("Bearer")
