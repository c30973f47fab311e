"""The catalog's handlers and the repository's new fields against Postgres: due date and
priority, clearing fields, newest-first bounded listings, bulk results, user scoping."""

from __future__ import annotations

from datetime import date

import pytest

from shared.db.pool import DbPool
from shared.errors import InvalidInputError, NotFoundError
from shared.tasks.operations.catalog import BY_NAME
from shared.tasks.operations.results import TaskListResult
from shared.tasks.repository import TaskRepository

ALICE = "alice"
BOB = "bob"


@pytest.fixture
def tasks(db_pool: DbPool) -> TaskRepository:
    return TaskRepository(db_pool)


async def test_due_date_and_priority_round_trip(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "rent", due_date=date(2026, 12, 4), priority="high")
    assert (task.due_date, task.priority) == (date(2026, 12, 4), "high")
    assert await tasks.get(ALICE, task.id) == task
    with pytest.raises(InvalidInputError, match="Priority must be one of low, medium, high"):
        await tasks.create(ALICE, "rent", priority="urgent")


async def test_update_sets_keeps_and_clears(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "rent", "flat", due_date=date(2026, 12, 4), priority="low")
    moved = await tasks.update(ALICE, task.id, due_date=date(2026, 12, 11))
    assert (moved.title, moved.description, moved.due_date, moved.priority) == (
        "rent",
        "flat",
        date(2026, 12, 11),
        "low",
    )
    cleared = await tasks.update(ALICE, task.id, clear=("description", "priority"))
    assert (cleared.description, cleared.due_date, cleared.priority) == (
        None,
        date(2026, 12, 11),
        None,
    )
    with pytest.raises(InvalidInputError, match="Either set priority or clear it"):
        await tasks.update(ALICE, task.id, priority="high", clear=["priority"])
    with pytest.raises(InvalidInputError, match="at least one change"):
        await tasks.update(ALICE, task.id)


async def test_list_recent_is_newest_first_and_bounded(tasks: TaskRepository) -> None:
    created = [await tasks.create(ALICE, f"task {n}") for n in range(5)]
    await tasks.create(BOB, "not alice's")
    await tasks.complete(ALICE, created[0].id)
    page = await tasks.list_recent(ALICE, "all", limit=3)
    assert [t.id for t in page.tasks] == [created[4].id, created[3].id, created[2].id]
    assert (page.total, page.has_more) == (5, True)
    pending = await tasks.list_recent(ALICE, "pending")
    assert (len(pending.tasks), pending.total, pending.has_more) == (4, 4, False)
    assert (await tasks.list_recent(BOB, "completed")).total == 0
    assert (await tasks.list_recent(ALICE, "all", limit=0)).total == 5


async def test_list_tasks_answer_is_compact_with_a_note(tasks: TaskRepository) -> None:
    for n in range(52):
        await tasks.create(ALICE, f"task {n}", "details" if n == 51 else None)
    outcome = await BY_NAME["list_tasks"].run(tasks, ALICE, {"status": "pending"})
    assert isinstance(outcome.result, TaskListResult)
    answer = outcome.to_json()
    assert (answer["count"], answer["total"]) == (50, 52)
    assert answer["note"] == "Showing the 50 newest of 52 tasks; the others are not listed."
    assert answer["tasks"][0] == {
        "id": 52,
        "title": "task 51",
        "completed": False,
        "description": "details",
    }
    assert answer["tasks"][1] == {"id": 51, "title": "task 50", "completed": False}
    assert outcome.listing is not None and len(outcome.listing.tasks) == 50
    assert not outcome.changed


async def test_bulk_operations_report_done_and_not_found(tasks: TaskRepository) -> None:
    mine = await tasks.create(ALICE, "mine")
    theirs = await tasks.create(BOB, "theirs")
    completed = await BY_NAME["bulk_complete_tasks"].run(
        tasks, ALICE, {"task_ids": [mine.id, theirs.id, mine.id, 999]}
    )
    assert completed.to_json() == {"completed": [mine.id], "not_found": [theirs.id, 999]}
    assert completed.changed
    deleted = await BY_NAME["bulk_delete_tasks"].run(tasks, ALICE, {"task_ids": [theirs.id]})
    assert deleted.to_json() == {"deleted": [], "not_found": [theirs.id]}
    assert not deleted.changed
    assert (await tasks.get(BOB, theirs.id)).completed is False


@pytest.mark.parametrize("tool", ["update_task", "delete_task", "complete_task"])
async def test_another_users_task_is_not_found(tasks: TaskRepository, tool: str) -> None:
    theirs = await tasks.create(BOB, "theirs")
    arguments = (
        {"task_id": theirs.id, "title": "x"} if tool == "update_task" else {"task_id": theirs.id}
    )
    with pytest.raises(NotFoundError, match=f"Task {theirs.id} was not found"):
        await BY_NAME[tool].run(tasks, ALICE, arguments)
    assert await tasks.get(BOB, theirs.id) == theirs
