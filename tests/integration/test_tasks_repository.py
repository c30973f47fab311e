"""TaskRepository against Postgres: CRUD, validation, bulk operations and user scoping."""

from __future__ import annotations

import asyncpg
import pytest

from shared.db.pool import DbPool
from shared.errors import InvalidInputError, NotFoundError
from shared.tasks.models import BulkResult
from shared.tasks.repository import TaskRepository
from shared.tasks.validation import MAX_TASK_ID

ALICE = "alice"
BOB = "bob"


@pytest.fixture
def tasks(db_pool: DbPool) -> TaskRepository:
    return TaskRepository(db_pool)


async def test_create_and_get(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "  Buy milk ", "  2 litres ")
    assert (task.id, task.title, task.description, task.completed) == (
        1,
        "Buy milk",
        "2 litres",
        False,
    )
    assert task.created_at.tzinfo is not None
    assert await tasks.get(ALICE, task.id) == task
    assert (await tasks.create(ALICE, "No details", "")).description is None


async def test_to_dict_is_json_safe(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "Buy milk")
    data = task.to_dict()
    assert data["id"] == task.id
    assert data["created_at"] == task.created_at.isoformat()
    assert isinstance(data["updated_at"], str)


async def test_invalid_input_is_rejected(tasks: TaskRepository) -> None:
    with pytest.raises(InvalidInputError):
        await tasks.create(ALICE, "   ")
    with pytest.raises(InvalidInputError):
        await tasks.create(ALICE, "x" * 256)
    with pytest.raises(InvalidInputError):
        await tasks.create(ALICE, "ok", "d" * 2001)
    task = await tasks.create(ALICE, "ok")
    with pytest.raises(InvalidInputError):
        await tasks.update(ALICE, task.id)
    with pytest.raises(InvalidInputError):
        await tasks.update(ALICE, task.id, title="")
    assert await tasks.list(ALICE) == [task]


async def test_list_filters_by_status_in_id_order(tasks: TaskRepository) -> None:
    first = await tasks.create(ALICE, "first")
    second = await tasks.create(ALICE, "second")
    third = await tasks.create(ALICE, "third")
    done = await tasks.complete(ALICE, second.id)
    assert done.completed
    assert [t.id for t in await tasks.list(ALICE)] == [first.id, second.id, third.id]
    assert [t.id for t in await tasks.list(ALICE, "pending")] == [first.id, third.id]
    assert await tasks.list(ALICE, "completed") == [done]
    with pytest.raises(InvalidInputError):
        await tasks.list(ALICE, "done")  # type: ignore[arg-type]


async def test_update_title_and_description(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "Buy milk", "2 litres")
    renamed = await tasks.update(ALICE, task.id, title="Buy oat milk")
    assert (renamed.title, renamed.description) == ("Buy oat milk", "2 litres")
    assert renamed.updated_at >= task.updated_at
    described = await tasks.update(ALICE, task.id, description="1 litre")
    assert (described.title, described.description) == ("Buy oat milk", "1 litre")
    cleared = await tasks.update(ALICE, task.id, description="")
    assert cleared.description is None


async def test_complete_is_idempotent(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "Buy milk")
    once = await tasks.complete(ALICE, task.id)
    twice = await tasks.complete(ALICE, task.id)
    assert once.completed and twice.completed
    assert twice.updated_at == once.updated_at


async def test_delete_returns_the_deleted_task(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "Buy milk")
    assert await tasks.delete(ALICE, task.id) == task
    with pytest.raises(NotFoundError, match=f"Task {task.id} was not found"):
        await tasks.get(ALICE, task.id)


async def test_missing_and_impossible_ids_are_not_found(tasks: TaskRepository) -> None:
    for task_id in [42, 0, -1, MAX_TASK_ID + 1]:
        with pytest.raises(NotFoundError, match=f"Task {task_id} was not found"):
            await tasks.get(ALICE, task_id)
        with pytest.raises(NotFoundError):
            await tasks.complete(ALICE, task_id)


async def test_another_users_task_is_not_found(tasks: TaskRepository) -> None:
    task = await tasks.create(ALICE, "Alice's")
    with pytest.raises(NotFoundError, match=f"Task {task.id} was not found"):
        await tasks.get(BOB, task.id)
    with pytest.raises(NotFoundError):
        await tasks.update(BOB, task.id, title="Bob's now")
    with pytest.raises(NotFoundError):
        await tasks.complete(BOB, task.id)
    with pytest.raises(NotFoundError):
        await tasks.delete(BOB, task.id)
    assert await tasks.list(BOB) == []
    assert await tasks.bulk_complete(BOB, [task.id]) == BulkResult(done=[], not_found=[task.id])
    assert await tasks.bulk_delete(BOB, [task.id]) == BulkResult(done=[], not_found=[task.id])
    assert await tasks.get(ALICE, task.id) == task


async def test_bulk_complete(tasks: TaskRepository) -> None:
    a = await tasks.create(ALICE, "a")
    b = await tasks.create(ALICE, "b")
    c = await tasks.create(ALICE, "c")
    result = await tasks.bulk_complete(ALICE, [c.id, 999, a.id, c.id, -3])
    assert result == BulkResult(done=[c.id, a.id], not_found=[999, -3])
    assert [t.id for t in await tasks.list(ALICE, "completed")] == [a.id, c.id]
    assert [t.id for t in await tasks.list(ALICE, "pending")] == [b.id]


async def test_bulk_delete(tasks: TaskRepository) -> None:
    a = await tasks.create(ALICE, "a")
    b = await tasks.create(ALICE, "b")
    result = await tasks.bulk_delete(ALICE, [b.id, 77])
    assert result == BulkResult(done=[b.id], not_found=[77])
    assert result.to_dict() == {"done": [b.id], "not_found": [77]}
    assert await tasks.list(ALICE) == [a]


async def test_bulk_limits(tasks: TaskRepository) -> None:
    with pytest.raises(InvalidInputError):
        await tasks.bulk_complete(ALICE, [])
    with pytest.raises(InvalidInputError):
        await tasks.bulk_delete(ALICE, list(range(1, 102)))
    result = await tasks.bulk_delete(ALICE, list(range(1, 101)))
    assert len(result.not_found) == 100


async def test_database_enforces_lengths_too(db_pool: DbPool) -> None:
    # The CHECK constraints back up validation for writers that bypass the repository.
    with pytest.raises(asyncpg.CheckViolationError):
        await db_pool.execute("INSERT INTO tasks (user_id, title) VALUES ('alice', '')")
