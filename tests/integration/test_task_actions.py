"""Task list button presses against the real repository: the change, the re-render, the scoping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from chatkit.actions import Action
from chatkit.types import WidgetItem

from shared.db.pool import DbPool
from shared.errors import InvalidInputError, NotFoundError
from shared.tasks.actions import apply_action
from shared.tasks.repository import TaskRepository
from shared.tasks.validation import TaskStatus
from shared.tasks.widget import task_list_copy_text, task_list_widget

ALICE = "alice"
BOB = "bob"


@pytest.fixture
def tasks(db_pool: DbPool) -> TaskRepository:
    return TaskRepository(db_pool)


async def sender_for(tasks: TaskRepository, user_id: str, status: TaskStatus) -> WidgetItem:
    listed = await tasks.list(user_id, status)
    return WidgetItem(
        id="widget-1",
        thread_id="thread-1",
        created_at=datetime.now(UTC),
        widget=task_list_widget(listed, status),
        copy_text=task_list_copy_text(listed, status),
    )


def press(action_type: str, task_id: int, status: TaskStatus = "all") -> Action[str, Any]:
    return Action(type=action_type, payload={"task_id": task_id, "status": status})


def row_keys(item: WidgetItem) -> list[str]:
    return [row["key"] for row in item.widget.model_dump()["children"]]


async def test_complete_marks_the_task_and_re_renders_the_same_list(
    tasks: TaskRepository,
) -> None:
    milk = await tasks.create(ALICE, "buy milk")
    dog = await tasks.create(ALICE, "walk dog")
    sender = await sender_for(tasks, ALICE, "all")

    updated = await apply_action(press("task.complete", milk.id), sender, tasks, ALICE)

    assert (await tasks.get(ALICE, milk.id)).completed
    assert (updated.id, updated.thread_id, updated.created_at) == (
        sender.id,
        sender.thread_id,
        sender.created_at,
    )
    assert updated.copy_text == (
        f"Your tasks:\n#{milk.id} buy milk (completed)\n#{dog.id} walk dog"
    )
    first_row = updated.widget.model_dump()["children"][0]
    assert [c["type"] for c in first_row["children"]] == ["Caption", "Col", "Badge", "Button"]


async def test_the_status_filter_is_kept(tasks: TaskRepository) -> None:
    milk = await tasks.create(ALICE, "buy milk")
    dog = await tasks.create(ALICE, "walk dog")
    sender = await sender_for(tasks, ALICE, "pending")

    updated = await apply_action(press("task.complete", milk.id, "pending"), sender, tasks, ALICE)

    assert row_keys(updated) == [f"task-{dog.id}"]
    assert updated.copy_text == f"Pending tasks:\n#{dog.id} walk dog"


async def test_delete_removes_the_task_and_its_row(tasks: TaskRepository) -> None:
    milk = await tasks.create(ALICE, "buy milk")
    sender = await sender_for(tasks, ALICE, "all")

    updated = await apply_action(press("task.delete", milk.id), sender, tasks, ALICE)

    assert await tasks.list(ALICE) == []
    assert row_keys(updated) == ["empty"]
    assert updated.copy_text == "You have no tasks."


async def test_another_users_task_is_not_found_and_unchanged(tasks: TaskRepository) -> None:
    bobs = await tasks.create(BOB, "bob's task")
    sender = await sender_for(tasks, ALICE, "all")

    for action_type in ("task.complete", "task.delete"):
        with pytest.raises(NotFoundError):
            await apply_action(press(action_type, bobs.id), sender, tasks, ALICE)

    assert await tasks.get(BOB, bobs.id) == bobs


async def test_unknown_action_or_missing_sender_is_invalid(tasks: TaskRepository) -> None:
    milk = await tasks.create(ALICE, "buy milk")
    sender = await sender_for(tasks, ALICE, "all")

    with pytest.raises(InvalidInputError, match="Unknown action"):
        await apply_action(press("task.archive", milk.id), sender, tasks, ALICE)
    with pytest.raises(InvalidInputError, match="must come from a task list widget"):
        await apply_action(press("task.complete", milk.id), None, tasks, ALICE)

    assert not (await tasks.get(ALICE, milk.id)).completed
