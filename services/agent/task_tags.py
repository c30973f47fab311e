"""@-mentions of tasks: what the model reads for an `input_tag` a user picked in the composer.

ChatKit.js sends the entity the user picked (from the gateway's `GET /api/tasks/search`) as an
`input_tag` whose `data.task_id` (or, failing that, `id`) is the task's id. The tag is resolved
against the user's own tasks when the turn runs, so the model gets the task's current id and
title; a tag that names no task of this user (another user's, a deleted one, or a made-up id) is
only the text the user typed, and the model is told nothing about any task.
"""

from __future__ import annotations

from chatkit.types import UserMessageTagContent
from openai.types.responses import ResponseInputTextParam

from shared.errors import NotFoundError
from shared.tasks.models import Task
from shared.tasks.repository import TaskRepository
from shared.tasks.validation import is_storable_id

TASK_TAG_GROUP = "Tasks"
"""The entity group the search answers with (ChatKit.js shows it as a heading)."""


def tagged_task_id(tag: UserMessageTagContent) -> int | None:
    """The task id a tag claims to name, or None when it names none."""
    raw = tag.data.get("task_id", tag.id)
    text = str(raw).strip()
    if not text.isascii() or not text.isdigit():
        return None
    task_id = int(text)
    return task_id if is_storable_id(task_id) else None


def describe_task(task: Task) -> str:
    status = "completed" if task.completed else "pending"
    parts = [f"task_id={task.id}", f"title={task.title!r}", f"status={status}"]
    if task.due_date is not None:
        parts.append(f"due={task.due_date.isoformat()}")
    if task.priority is not None:
        parts.append(f"priority={task.priority}")
    return " ".join(parts)


async def task_tag_to_input(
    tag: UserMessageTagContent, tasks: TaskRepository, user_id: str
) -> ResponseInputTextParam:
    task_id = tagged_task_id(tag)
    task = None
    if task_id is not None:
        try:
            task = await tasks.get(user_id, task_id)
        except NotFoundError:
            task = None
    if task is None:
        return ResponseInputTextParam(
            type="input_text",
            text=f"@{tag.text} is plain text the user typed; it names none of their tasks.",
        )
    return ResponseInputTextParam(
        type="input_text",
        text=(
            f"@{tag.text} is the user's task {describe_task(task)}. "
            f"Act on exactly this task (task_id {task.id}) when the user refers to it."
        ),
    )
