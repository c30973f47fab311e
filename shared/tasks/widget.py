"""The task list as a ChatKit widget: one row per task, with Complete and Delete buttons.

Built in code as the JSON tree chatkit's widget templates produce, then validated as a
`DynamicWidgetRoot`: chatkit deprecates instantiating its named widget classes (`ListView`,
`Button`, ...) in favour of templates, and this is the same path `WidgetTemplate.build` takes,
without a template file.

The buttons send `task.complete` / `task.delete` actions whose payload carries the task id and the
list's status filter, so the list re-rendered after the press shows the same filter. They ask for
`threads.sync_custom_action` (`streaming: false`): a press only changes the task and this widget,
so the gateway answers it from Postgres with no queue hop, and chatkit does not block it while an
answer is streaming. The worker handles the streamed `threads.custom_action` for them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

from chatkit.actions import ActionConfig
from chatkit.widgets import DynamicWidgetRoot

from shared.tasks.models import Task
from shared.tasks.validation import TaskStatus

COMPLETE_ACTION: Final = "task.complete"
DELETE_ACTION: Final = "task.delete"
TaskActionType = Literal["task.complete", "task.delete"]

Node = dict[str, Any]

_TITLES: Final[dict[TaskStatus, str]] = {
    "all": "Your tasks",
    "pending": "Pending tasks",
    "completed": "Completed tasks",
}
_EMPTY: Final[dict[TaskStatus, str]] = {
    "all": "You have no tasks.",
    "pending": "You have no pending tasks.",
    "completed": "You have no completed tasks.",
}


def task_action(action_type: TaskActionType, task_id: int, status: TaskStatus) -> ActionConfig:
    """The action a task row's button sends."""
    return ActionConfig(
        type=action_type,
        payload={"task_id": task_id, "status": status},
        handler="server",
        streaming=False,
    )


def list_title(status: TaskStatus) -> str:
    """The heading of a list with this status filter, e.g. "Pending tasks"."""
    return _TITLES[status]


def task_list_widget(tasks: Sequence[Task], status: TaskStatus) -> DynamicWidgetRoot:
    """The list of `tasks` (already filtered by `status`), or an empty-state line."""
    rows = [_task_row(task, status) for task in tasks] or [_empty_row(status)]
    return DynamicWidgetRoot.model_validate(
        {
            "type": "ListView",
            "status": {"text": f"{list_title(status)} ({len(tasks)})", "icon": "check-circle"},
            "children": rows,
        }
    )


def task_list_copy_text(tasks: Sequence[Task], status: TaskStatus) -> str:
    """Plain-text copy of the list; also what the model sees of the widget on later turns."""
    if not tasks:
        return _EMPTY[status]
    lines = [f"#{t.id} {t.title}" + (" (completed)" if t.completed else "") for t in tasks]
    return f"{list_title(status)}:\n" + "\n".join(lines)


def _task_row(task: Task, status: TaskStatus) -> Node:
    title: Node = {"type": "Text", "value": task.title, "truncate": True}
    if task.completed:
        title |= {"lineThrough": True, "color": "secondary"}
    children: list[Node] = [
        {"type": "Caption", "value": f"#{task.id}", "color": "secondary"},
        {"type": "Col", "flex": 1, "children": [title]},
    ]
    if task.completed:
        # A completed task has nothing left to complete, so a badge takes the button's place.
        children.append({"type": "Badge", "label": "Completed", "color": "success"})
    else:
        children.append(
            _button("Complete", task_action(COMPLETE_ACTION, task.id, status), "outline")
        )
    children.append(
        _button("Delete", task_action(DELETE_ACTION, task.id, status), "ghost", color="danger")
    )
    # A stable key lets the client keep rows in place when the list is re-rendered.
    return {
        "type": "ListViewItem",
        "key": f"task-{task.id}",
        "gap": 3,
        "align": "center",
        "children": children,
    }


def _button(label: str, action: ActionConfig, variant: str, *, color: str | None = None) -> Node:
    button: Node = {
        "type": "Button",
        "label": label,
        "size": "sm",
        "variant": variant,
        "onClickAction": action.model_dump(),
    }
    if color is not None:
        button["color"] = color
    return button


def _empty_row(status: TaskStatus) -> Node:
    return {
        "type": "ListViewItem",
        "key": "empty",
        "children": [{"type": "Text", "value": _EMPTY[status], "color": "secondary"}],
    }
