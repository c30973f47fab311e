"""Tasks in Postgres, always scoped to the `user_id` given by the caller.

`user_id` is the first parameter of every method and the only source of the owner: it comes from
the authenticated request, never from model or user input. Another user's task is reported
exactly like a missing one.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from datetime import date
from typing import Final

import asyncpg

from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb
from shared.errors import InvalidInputError, NotFoundError
from shared.tasks.models import BulkResult, Task, TaskPage
from shared.tasks.validation import (
    LIST_MAX_TASKS,
    ClearableField,
    TaskStatus,
    check_priority,
    check_status,
    clean_description,
    clean_task_ids,
    clean_title,
    is_storable_id,
)

_COLUMNS: Final = "id, title, description, completed, created_at, updated_at, due_date, priority"


# None means "any status"; the boolean is matched against `completed`.
_STATUS_FILTER: Final[dict[TaskStatus, bool | None]] = {
    "all": None,
    "pending": False,
    "completed": True,
}

_INSERT: Final = f"""
INSERT INTO tasks (user_id, title, description, due_date, priority)
VALUES ($1, $2, $3, $4, $5)
RETURNING {_COLUMNS}
"""

_LIST: Final = f"""
SELECT {_COLUMNS} FROM tasks
WHERE user_id = $1 AND ($2::boolean IS NULL OR completed = $2::boolean)
ORDER BY id
"""

# Newest first; the window count tells how many matched in all, in the same scan.
_RECENT: Final = f"""
SELECT {_COLUMNS}, count(*) OVER () AS total FROM tasks
WHERE user_id = $1 AND ($2::boolean IS NULL OR completed = $2::boolean)
ORDER BY id DESC
LIMIT $3
"""

_COUNT: Final = """
SELECT count(*) FROM tasks
WHERE user_id = $1 AND ($2::boolean IS NULL OR completed = $2::boolean)
"""

_GET: Final = f"SELECT {_COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2"

# Titles containing $2 (a LIKE pattern, wildcards escaped), pending ones first, then newest.
_SEARCH: Final = f"""
SELECT {_COLUMNS} FROM tasks
WHERE user_id = $1 AND title ILIKE $2 ESCAPE '\\'
ORDER BY completed, id DESC
LIMIT $3
"""

SEARCH_MAX_RESULTS: Final = 20
SEARCH_MAX_QUERY_CHARS: Final = 200

# $3 NULL keeps the title; $4, $6 and $8 say whether the description, due date and priority
# change (each may become NULL).
_UPDATE: Final = f"""
UPDATE tasks
SET title = COALESCE($3::text, title),
    description = CASE WHEN $4::boolean THEN $5::text ELSE description END,
    due_date = CASE WHEN $6::boolean THEN $7::date ELSE due_date END,
    priority = CASE WHEN $8::boolean THEN $9::text ELSE priority END,
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
        due_date=row["due_date"],
        priority=row["priority"],
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _not_found(task_id: int) -> NotFoundError:
    return NotFoundError(f"Task {task_id} was not found")


class TaskRepository:
    """CRUD and bulk operations on one user's tasks at a time."""

    def __init__(self, pool: DbPool) -> None:
        self._db = UserScopedDb(pool)

    async def create(
        self,
        user_id: str,
        title: str,
        description: str | None = None,
        *,
        due_date: date | None = None,
        priority: str | None = None,
    ) -> Task:
        """Create a pending task."""
        row = await self._db.fetchrow(
            user_id,
            _INSERT,
            user_id,
            clean_title(title),
            clean_description(description),
            due_date,
            check_priority(priority),
        )
        assert row is not None  # INSERT ... RETURNING always yields the row
        return _task(row)

    async def list(self, user_id: str, status: TaskStatus = "all") -> builtins.list[Task]:
        """The user's tasks with the given status, oldest first."""
        rows = await self._db.fetch(user_id, _LIST, user_id, _STATUS_FILTER[check_status(status)])
        return [_task(row) for row in rows]

    async def list_recent(
        self, user_id: str, status: TaskStatus = "all", limit: int = LIST_MAX_TASKS
    ) -> TaskPage:
        """The newest `limit` tasks with the given status, and how many match in all."""
        completed = _STATUS_FILTER[check_status(status)]
        rows = await self._db.fetch(user_id, _RECENT, user_id, completed, limit)
        if rows:
            total: int = rows[0]["total"]
        else:  # nothing on this page, but an empty page says nothing about the whole
            total = 0 if limit > 0 else await self._db.fetchval(user_id, _COUNT, user_id, completed)
        return TaskPage(tasks=[_task(row) for row in rows], total=total)

    async def get(self, user_id: str, task_id: int) -> Task:
        """One of the user's tasks; `NotFoundError` if missing or not theirs."""
        return await self._one(_GET, user_id, task_id)

    async def search(
        self, user_id: str, query: str, limit: int = SEARCH_MAX_RESULTS
    ) -> builtins.list[Task]:
        """The user's tasks whose title contains `query` (any case), pending first, at most
        `limit`; an empty query matches every task."""
        text = query.strip()
        if len(text) > SEARCH_MAX_QUERY_CHARS:
            raise InvalidInputError(
                f"A search is at most {SEARCH_MAX_QUERY_CHARS} characters long."
            )
        if "\x00" in text:  # Postgres text cannot hold it; no title contains it
            raise InvalidInputError("A search cannot contain NUL characters.")
        if not 1 <= limit <= SEARCH_MAX_RESULTS:
            raise InvalidInputError(f"limit must be between 1 and {SEARCH_MAX_RESULTS}.")
        pattern = "%" + _escape_like(text) + "%"
        rows = await self._db.fetch(user_id, _SEARCH, user_id, pattern, limit)
        return [_task(row) for row in rows]

    async def update(
        self,
        user_id: str,
        task_id: int,
        *,
        title: str | None = None,
        description: str | None = None,
        due_date: date | None = None,
        priority: str | None = None,
        clear: Collection[ClearableField] = (),
    ) -> Task:
        """Change the given fields; None leaves a field as it is, `clear` empties fields.

        An empty description also clears it.
        """
        nothing_set = title is None and description is None and due_date is None
        if nothing_set and priority is None and not clear:
            raise InvalidInputError(
                "Give at least one change: a new title, description, due_date or priority,"
                " or the fields to clear."
            )
        for name, value in (
            ("description", description),
            ("due_date", due_date),
            ("priority", priority),
        ):
            if value is not None and name in clear:
                raise InvalidInputError(f"Either set {name} or clear it, not both.")
        new_title = None if title is None else clean_title(title)
        return await self._one(
            _UPDATE,
            user_id,
            task_id,
            new_title,
            description is not None or "description" in clear,
            clean_description(description),
            due_date is not None or "due_date" in clear,
            due_date,
            priority is not None or "priority" in clear,
            check_priority(priority),
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
