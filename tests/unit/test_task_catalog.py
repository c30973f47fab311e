"""The task catalog: seven tools, schemas derived from the argument models, readable errors."""

from __future__ import annotations

from datetime import date

import pytest

from shared.errors import InvalidInputError
from shared.tasks.operations.arguments import UpdateTaskArgs
from shared.tasks.operations.catalog import (
    BY_NAME,
    CATALOG,
    CREATE_TASK,
    LIST_TASKS,
    UPDATE_TASK,
)


def test_the_seven_tools() -> None:
    assert [op.name for op in CATALOG] == [
        "create_task",
        "list_tasks",
        "update_task",
        "delete_task",
        "complete_task",
        "bulk_complete_tasks",
        "bulk_delete_tasks",
    ]
    assert set(BY_NAME) == {op.name for op in CATALOG}
    for op in CATALOG:
        assert op.schema == op.arguments.model_json_schema()
        assert op.schema["type"] == "object" and op.schema["additionalProperties"] is False
        assert op.description


def test_schema_states_the_limits() -> None:
    props = CREATE_TASK.schema["properties"]
    assert (props["title"]["minLength"], props["title"]["maxLength"]) == (1, 255)
    assert props["description"]["anyOf"][0]["maxLength"] == 2000
    assert props["priority"]["anyOf"][0]["enum"] == ["low", "medium", "high"]
    ids = BY_NAME["bulk_delete_tasks"].schema["properties"]["task_ids"]
    assert (ids["minItems"], ids["maxItems"]) == (1, 100)


def test_parse_trims_and_converts() -> None:
    args = CREATE_TASK.parse({"title": "  rent ", "due_date": "2026-12-04", "priority": "high"})
    assert (args.title, args.due_date, args.priority) == ("rent", date(2026, 12, 4), "high")
    assert LIST_TASKS.parse(None).status == "all"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "title: Field required"),
        ({"title": " \t "}, "title: String should have at least 1 character"),
        ({"title": "x" * 256}, "title: String should have at most 255 characters"),
        ({"title": "a\x00b"}, "title: cannot contain NUL"),
        ({"title": "t", "priority": "urgent"}, "priority: Input should be 'low', 'medium'"),
        ({"title": "t", "due_date": "friday"}, "due_date: Input should be a valid date"),
        ({"title": "t", "titel": "t"}, "titel: is not an argument of this tool"),
    ],
)
def test_invalid_arguments_say_what_is_wrong(arguments: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        CREATE_TASK.parse(arguments)
    assert caught.value.detail.startswith("Invalid arguments for create_task: ")
    assert message in caught.value.detail


def test_activity_lines() -> None:
    assert CREATE_TASK.describe({"title": "buy milk"}) == "Creating task 'buy milk'"
    assert LIST_TASKS.describe({"status": "pending"}) == "Listing pending tasks"
    assert UPDATE_TASK.describe({"task_id": 3, "title": "x"}) == "Updating task #3"
    assert UPDATE_TASK.describe({"task_id": "nope"}) == "Update task"
    assert isinstance(UPDATE_TASK.parse({"task_id": 3, "clear": ["priority"]}), UpdateTaskArgs)
