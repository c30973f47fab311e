"""The task list widget and the parsing of its button presses (pure code, no services)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from chatkit.actions import Action
from chatkit.types import WidgetItem

from shared.errors import InvalidInputError
from shared.tasks.actions import TaskCommand, parse_action
from shared.tasks.models import Task
from shared.tasks.widget import task_list_copy_text, task_list_widget

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def task(task_id: int, title: str, *, completed: bool = False) -> Task:
    return Task(
        id=task_id,
        title=title,
        description=None,
        completed=completed,
        created_at=NOW,
        updated_at=NOW,
    )


def rows(tasks: list[Task], status: Any = "all") -> list[dict[str, Any]]:
    data = task_list_widget(tasks, status).model_dump()
    assert data["type"] == "ListView"
    children: list[dict[str, Any]] = data["children"]
    return children


def of_type(row: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [child for child in row["children"] if child["type"] == kind]


def test_one_row_per_task_with_id_title_and_buttons() -> None:
    milk, eggs = rows([task(3, "buy milk"), task(7, "buy eggs")])
    assert milk["type"] == "ListViewItem"
    assert milk["key"] == "task-3"
    assert of_type(milk, "Caption")[0]["value"] == "#3"
    title = of_type(milk, "Col")[0]["children"][0]
    assert title["value"] == "buy milk"
    assert "lineThrough" not in title
    assert [b["label"] for b in of_type(milk, "Button")] == ["Complete", "Delete"]
    assert of_type(milk, "Badge") == []
    assert of_type(eggs, "Caption")[0]["value"] == "#7"


def test_buttons_send_task_actions_with_the_list_filter() -> None:
    (row,) = rows([task(3, "buy milk")], "pending")
    complete, delete = of_type(row, "Button")
    assert complete["onClickAction"] == {
        "type": "task.complete",
        "payload": {"task_id": 3, "status": "pending"},
        "handler": "server",
        "loadingBehavior": "auto",
        "streaming": False,
    }
    assert delete["onClickAction"]["type"] == "task.delete"
    assert delete["onClickAction"]["payload"] == {"task_id": 3, "status": "pending"}


def test_completed_task_is_struck_through_with_a_badge_and_no_complete_button() -> None:
    (row,) = rows([task(5, "file taxes", completed=True)])
    title = of_type(row, "Col")[0]["children"][0]
    assert title["lineThrough"] is True
    assert of_type(row, "Badge")[0]["label"] == "Completed"
    assert [b["label"] for b in of_type(row, "Button")] == ["Delete"]


@pytest.mark.parametrize(
    ("status", "heading", "empty"),
    [
        ("all", "Your tasks", "You have no tasks."),
        ("pending", "Pending tasks", "You have no pending tasks."),
        ("completed", "Completed tasks", "You have no completed tasks."),
    ],
)
def test_heading_and_empty_state_follow_the_filter(status: Any, heading: str, empty: str) -> None:
    data = task_list_widget([], status).model_dump()
    assert data["status"]["text"] == f"{heading} (0)"
    (row,) = data["children"]
    assert of_type(row, "Text")[0]["value"] == empty
    assert of_type(row, "Button") == []
    assert task_list_copy_text([], status) == empty


def test_heading_counts_tasks_and_copy_text_lists_them() -> None:
    tasks = [task(1, "buy milk"), task(2, "walk dog", completed=True)]
    assert task_list_widget(tasks, "all").model_dump()["status"]["text"] == "Your tasks (2)"
    assert task_list_copy_text(tasks, "all") == (
        "Your tasks:\n#1 buy milk\n#2 walk dog (completed)"
    )


def test_widget_round_trips_through_chatkit_types() -> None:
    # What the store saves and the browser receives must parse back as a widget item.
    widget = task_list_widget([task(1, "buy milk")], "all")
    item = WidgetItem(id="w1", thread_id="t1", created_at=NOW, widget=widget)
    loaded = WidgetItem.model_validate_json(item.model_dump_json())
    assert loaded.widget.type == "ListView"


def action(action_type: str, payload: Any) -> Action[str, Any]:
    return Action(type=action_type, payload=payload)


def test_parse_complete_and_delete() -> None:
    assert parse_action(action("task.complete", {"task_id": 3, "status": "pending"})) == (
        TaskCommand(kind="complete", task_id=3, status="pending")
    )
    assert parse_action(action("task.delete", {"task_id": 4})) == (
        TaskCommand(kind="delete", task_id=4, status="all")
    )


@pytest.mark.parametrize(
    ("action_type", "payload", "message"),
    [
        ("task.fly", {"task_id": 1}, "Unknown action 'task.fly'"),
        ("task.complete", None, "needs a payload object with a task_id"),
        ("task.complete", [1], "needs a payload object with a task_id"),
        ("task.complete", {}, "task_id: Field required"),
        ("task.complete", {"task_id": "1"}, "task_id: Input should be a valid integer"),
        ("task.complete", {"task_id": True}, "task_id: Input should be a valid integer"),
        ("task.delete", {"task_id": 0}, "task_id: Input should be greater than or equal to 1"),
        ("task.delete", {"task_id": 1, "status": "someday"}, "status: Input should be"),
    ],
)
def test_bad_actions_are_invalid_input(action_type: str, payload: Any, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_action(action(action_type, payload))
    assert message in caught.value.detail
