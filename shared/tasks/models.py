"""Task values returned by `TaskRepository`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import msgspec


class Task(msgspec.Struct, frozen=True, kw_only=True):
    """One task of one user (the owner is deliberately not part of the value)."""

    id: int
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime
    due_date: date | None = None
    priority: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields (timestamps as ISO 8601), e.g. for a tool result sent to the model."""
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "completed": self.completed,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "due_date": None if self.due_date is None else self.due_date.isoformat(),
            "priority": self.priority,
        }


class BulkResult(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of a bulk operation, ids in the order they were asked for."""

    done: list[int]
    not_found: list[int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe fields."""
        return {"done": list(self.done), "not_found": list(self.not_found)}


class TaskPage(msgspec.Struct, frozen=True, kw_only=True):
    """A bounded listing: the newest `tasks` of `total` matching ones."""

    tasks: list[Task]
    total: int

    @property
    def has_more(self) -> bool:
        return self.total > len(self.tasks)
