"""Tasks in Postgres, always scoped to the `user_id` given by the caller.

`user_id` is the first parameter of every method and the only source of the owner: it comes from
the authenticated request, never from model or user input. Another user's task is reported
exactly like a missing one.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Final

import asyncpg

from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb
from shared.errors import InvalidInputError, NotFoundError
from shared.tasks.models import BulkResult, Task
from shared.tasks.validation import (
    TaskStatus,
    check_status,
    clean_description,
    clean_task_ids,
    clean_title,
    is_storable_id,
)

_COLUMNS: Final = "id, title, description, completed, created_at, updated_at"

# None means "any status"; the boolean is matched against `completed`.
_STATUS_FILTER: Final[dict[TaskStatus, bool | None]] = {
    "all": None,
    "pending": False,
    "completed": True,
}

_INSERT: Final = f"""
INSERT INTO tasks (user_id, title, description) VALUES ($1, $2, $3) RETURNING {_COLUMNS}
"""

_LIST: Final = f"""
SELECT {_COLUMNS} FROM tasks
WHERE user_id = $1 AND ($2::boolean IS NULL OR completed = $2::boolean)
ORDER BY id
"""

_GET: Final = f"SELECT {_COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2"

# $3 NULL keeps the title; $4 says whether the description changes (it may become NULL).
_UPDATE: Final = f"""
UPDATE tasks
SET title = COALESCE($3::text, title),
    description = CASE WHEN $4::boolean THEN $5::text ELSE description END,
    updated_at = now()
WHERE user_id = $1 AND id = $2
RETURNING {_COLUMNS}
"""

_DELETE: Final = f"DELETE FROM tasks WHERE user_id = $1 AND id = $2 RETURNING {_COLUMNS}"

# Completing an already completed task changes nothing, so its updated_at stays as it was.
_COMPLETE: Final = f"""
UPDATE tasks
SET completed = true, updated_at = CASE WHEN completed THEN updated_at ELSE now() END
WHERE user_id = $1 AND id = ANY($2::bigint[])
RETURNING {_COLUMNS}
"""

_BULK_DELETE: Final = "DELETE FROM tasks WHERE user_id = $1 AND id = ANY($2::bigint[]) RETURNING id"


def _task(row: asyncpg.Record) -> Task:
    return Task(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        completed=row["completed"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _not_found(task_id: int) -> NotFoundError:
    return NotFoundError(f"Task {task_id} was not found")


class TaskRepository:
    """CRUD and bulk operations on one user's tasks at a time."""

    def __init__(self, pool: DbPool) -> None:
        self._db = UserScopedDb(pool)

    async def create(self, user_id: str, title: str, description: str | None = None) -> Task:
        """Create a pending task."""
        row = await self._db.fetchrow(
            user_id, _INSERT, user_id, clean_title(title), clean_description(description)
        )
        assert row is not None  # INSERT ... RETURNING always yields the row
        return _task(row)

    async def list(self, user_id: str, status: TaskStatus = "all") -> builtins.list[Task]:
        """The user's tasks with the given status, oldest first."""
        rows = await self._db.fetch(user_id, _LIST, user_id, _STATUS_FILTER[check_status(status)])
        return [_task(row) for row in rows]

    async def get(self, user_id: str, task_id: int) -> Task:
        """One of the user's tasks; `NotFoundError` if missing or not theirs."""
        return await self._one(_GET, user_id, task_id)

    async def update(
        self,
        user_id: str,
        task_id: int,
        *,
        title: str | None = None,
        description: str | None = None,
    ) -> Task:
        """Change the title and/or description; an empty description clears it."""
        if title is None and description is None:
            raise InvalidInputError("Give a new title or description for the task.")
        new_title = None if title is None else clean_title(title)
        return await self._one(
            _UPDATE,
            user_id,
            task_id,
            new_title,
            description is not None,
            clean_description(description),
        )

    async def delete(self, user_id: str, task_id: int) -> Task:
        """Delete one task and return it as it was."""
        return await self._one(_DELETE, user_id, task_id)

    async def complete(self, user_id: str, task_id: int) -> Task:
        """Mark one task completed (completing it again is harmless)."""
        if not is_storable_id(task_id):
            raise _not_found(task_id)
        rows = await self._db.fetch(user_id, _COMPLETE, user_id, [task_id])
        if not rows:
            raise _not_found(task_id)
        return _task(rows[0])

    async def bulk_complete(self, user_id: str, task_ids: Sequence[int]) -> BulkResult:
        """Mark up to 100 tasks completed in one statement."""
        ids = clean_task_ids(task_ids)
        rows = await self._db.fetch(
            user_id, _COMPLETE, user_id, [i for i in ids if is_storable_id(i)]
        )
        return _bulk_result(ids, {row["id"] for row in rows})

    async def bulk_delete(self, user_id: str, task_ids: Sequence[int]) -> BulkResult:
        """Delete up to 100 tasks in one statement."""
        ids = clean_task_ids(task_ids)
        rows = await self._db.fetch(
            user_id, _BULK_DELETE, user_id, [i for i in ids if is_storable_id(i)]
        )
        return _bulk_result(ids, {row["id"] for row in rows})

    async def _one(self, query: str, user_id: str, task_id: int, *args: object) -> Task:
        if not is_storable_id(task_id):
            raise _not_found(task_id)
        row = await self._db.fetchrow(user_id, query, user_id, task_id, *args)
        if row is None:
            raise _not_found(task_id)
        return _task(row)


def _bulk_result(asked: builtins.list[int], done: set[int]) -> BulkResult:
    return BulkResult(
        done=[i for i in asked if i in done],
        not_found=[i for i in asked if i not in done],
    )
