"""Button presses on the task list widget: change the task, re-render the list. No model call.

Used by the worker (`threads.custom_action`, streamed) and by the gateway
(`threads.sync_custom_action`), so a press has the same effect whichever way it arrives. The
payload comes from the browser, so it is validated here and the change is scoped to the
authenticated user by the repository (another user's task is "not found").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from chatkit.actions import Action
from chatkit.types import WidgetItem
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import InvalidInputError
from shared.tasks.repository import TaskRepository
from shared.tasks.validation import TaskStatus
from shared.tasks.widget import (
    COMPLETE_ACTION,
    DELETE_ACTION,
    TaskActionType,
    task_list_copy_text,
    task_list_widget,
)

ACTION_TYPES: Final[tuple[TaskActionType, ...]] = (COMPLETE_ACTION, DELETE_ACTION)


class _Payload(BaseModel):
    # Strict: "3" or true are not task ids; a client sending them has a bug worth reporting.
    model_config = ConfigDict(strict=True, extra="ignore")

    task_id: int = Field(ge=1)
    status: Literal["all", "pending", "completed"] = "all"


@dataclass(frozen=True, slots=True)
class TaskCommand:
    """A validated press: what to do to which task, and which list to show afterwards."""

    kind: Literal["complete", "delete"]
    task_id: int
    status: TaskStatus


def parse_action(action: Action[str, Any]) -> TaskCommand:
    """The command an action asks for; `InvalidInputError` for an unknown type or bad payload."""
    if action.type not in ACTION_TYPES:
        raise InvalidInputError(
            f"Unknown action {action.type!r}; expected one of {', '.join(ACTION_TYPES)}."
        )
    if not isinstance(action.payload, dict):
        raise InvalidInputError(f"The {action.type} action needs a payload object with a task_id.")
    try:
        payload = _Payload.model_validate(action.payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise InvalidInputError(f"Invalid {action.type} payload: {where}: {first['msg']}.") from exc
    kind: Literal["complete", "delete"] = "complete" if action.type == COMPLETE_ACTION else "delete"
    return TaskCommand(kind=kind, task_id=payload.task_id, status=payload.status)


async def apply_action(
    action: Action[str, Any], sender: WidgetItem | None, tasks: TaskRepository, user_id: str
) -> WidgetItem:
    """Carry out the press for `user_id` and return `sender` showing the re-queried list.

    The item keeps its id and position in the thread; only its widget and copy text change.
    """
    command = parse_action(action)
    if sender is None:
        raise InvalidInputError(f"The {action.type} action must come from a task list widget.")
    if command.kind == "complete":
        await tasks.complete(user_id, command.task_id)
    else:
        await tasks.delete(user_id, command.task_id)
    listed = await tasks.list(user_id, command.status)
    return sender.model_copy(
        update={
            "widget": task_list_widget(listed, command.status),
            "copy_text": task_list_copy_text(listed, command.status),
        }
    )
