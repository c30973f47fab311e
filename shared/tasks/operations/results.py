"""What each task tool answers, as pydantic models (the MCP `outputSchema` and the OpenAPI
response schemas come from these; the agent gets them as JSON text)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from shared.tasks.models import Task, TaskPage
from shared.tasks.validation import Priority, TaskStatus


class TaskOut(BaseModel):
    """One task, every field."""

    id: int
    title: str
    description: str | None
    completed: bool
    due_date: date | None
    priority: Priority | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskOut:
        return cls.model_validate(task, from_attributes=True)


class TaskSummary(BaseModel):
    """One task in a listing; empty optional fields are left out to keep listings compact."""

    id: int
    title: str
    completed: bool
    description: str | None = None
    due_date: date | None = None
    priority: Priority | None = None

    @classmethod
    def of(cls, task: Task) -> TaskSummary:
        return cls.model_validate(task, from_attributes=True)


class TaskResult(BaseModel):
    task: TaskOut


class DeletedResult(BaseModel):
    deleted: TaskOut


class TaskSearchResult(BaseModel):
    query: str
    tasks: list[TaskOut] = Field(description="Pending first, then newest; at most `limit`.")


class TaskListResult(BaseModel):
    status: TaskStatus
    count: int = Field(description="Tasks in this answer.")
    total: int = Field(description="Tasks with this status in all.")
    tasks: list[TaskSummary] = Field(description="Newest first.")
    note: str | None = Field(default=None, description="Set when more tasks exist than listed.")

    @classmethod
    def of(cls, page: TaskPage, status: TaskStatus) -> TaskListResult:
        shown = len(page.tasks)
        note = (
            f"Showing the {shown} newest of {page.total} tasks; the others are not listed."
            if page.has_more
            else None
        )
        return cls(
            status=status,
            count=shown,
            total=page.total,
            tasks=[TaskSummary.of(task) for task in page.tasks],
            note=note,
        )


class BulkCompleteResult(BaseModel):
    completed: list[int] = Field(description="Ids now completed, in the order asked.")
    not_found: list[int] = Field(description="Ids with no task of this user.")


class BulkDeleteResult(BaseModel):
    deleted: list[int] = Field(description="Ids deleted, in the order asked.")
    not_found: list[int] = Field(description="Ids with no task of this user.")
