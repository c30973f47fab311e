"""The arguments of each task tool, as pydantic models: the JSON schema every door publishes
(function tool parameters, MCP `inputSchema`, OpenAPI) is derived from these.

Constraints are declared here so that clients see them in the schema; the repository checks the
same rules again (`shared/tasks/validation.py`), since it has callers of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from shared.tasks.validation import (
    BULK_MAX_IDS,
    DESCRIPTION_MAX_CHARS,
    MAX_TASK_ID,
    TITLE_MAX_CHARS,
    ClearableField,
    Priority,
)


def _no_nul(text: str) -> str:
    # PostgreSQL cannot store NUL in text; refused here with a clear message, not a 500.
    if "\x00" in text:
        raise ValueError("cannot contain NUL (\\u0000) characters")
    return text


# Titles are trimmed before their length is checked: "  milk " is the 4-character "milk".
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TITLE_MAX_CHARS),
    AfterValidator(_no_nul),
]
Description = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=DESCRIPTION_MAX_CHARS),
    AfterValidator(_no_nul),
]
TaskId = Annotated[int, Field(ge=1, le=MAX_TASK_ID, description="The task's id.")]
TaskIds = Annotated[
    list[TaskId],
    Field(min_length=1, max_length=BULK_MAX_IDS, description="Task ids (1 to 100)."),
]

_TITLE = f"Short title of the task (1-{TITLE_MAX_CHARS} characters)."
_DESCRIPTION = f"Longer description (up to {DESCRIPTION_MAX_CHARS} characters)."
_DUE = "Day the task is due, as YYYY-MM-DD (e.g. the date of next Friday)."
_PRIORITY = "How important the task is: low, medium or high."


class _Arguments(BaseModel):
    # Unknown fields are refused: a misspelt "titel" must not silently do nothing.
    model_config = ConfigDict(extra="forbid")


class CreateTaskArgs(_Arguments):
    title: Title = Field(description=_TITLE)
    description: Description | None = Field(default=None, description=_DESCRIPTION)
    due_date: date | None = Field(default=None, description=_DUE)
    priority: Priority | None = Field(default=None, description=_PRIORITY)


class ListTasksArgs(_Arguments):
    status: Literal["all", "pending", "completed"] = Field(
        default="all", description='Which tasks to list: "all", "pending" or "completed".'
    )


class TaskChanges(_Arguments):
    """What changes in a task; a field left out (or null) stays as it is."""

    title: Title | None = Field(default=None, description=f"New title. {_TITLE}")
    description: Description | None = Field(
        default=None, description=f"New description. {_DESCRIPTION}"
    )
    due_date: date | None = Field(default=None, description=f"New due date. {_DUE}")
    priority: Priority | None = Field(default=None, description=f"New priority. {_PRIORITY}")
    clear: list[ClearableField] = Field(
        default_factory=list,
        max_length=3,
        description="Fields to remove from the task: description, due_date and/or priority.",
    )


class UpdateTaskArgs(TaskChanges):
    task_id: TaskId


class TaskIdArgs(_Arguments):
    task_id: TaskId


class TaskIdsArgs(_Arguments):
    task_ids: TaskIds
