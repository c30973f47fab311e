"""The seven task tools: each one's name, model-facing description, argument and result models,
and handler. `run_operation` is the one way every door calls them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from shared.errors import InvalidInputError
from shared.tasks.models import Task
from shared.tasks.operations.arguments import (
    CreateTaskArgs,
    ListTasksArgs,
    TaskIdArgs,
    TaskIdsArgs,
    UpdateTaskArgs,
)
from shared.tasks.operations.results import (
    BulkCompleteResult,
    BulkDeleteResult,
    DeletedResult,
    TaskListResult,
    TaskOut,
    TaskResult,
)
from shared.tasks.repository import TaskRepository
from shared.tasks.validation import TaskStatus

ArgsT = TypeVar("ArgsT", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class TaskListing:
    """The tasks a listing showed, for doors that render them (the agent's task-list widget)."""

    tasks: list[Task]
    status: TaskStatus


@dataclass(frozen=True, slots=True)
class Outcome:
    """A tool's answer, and what it did that a door may want to tell its client about."""

    result: BaseModel
    changed: bool
    """Whether any task was created, changed or deleted (the agent streams `tasks_changed`)."""
    listing: TaskListing | None = None

    def to_json(self) -> dict[str, Any]:
        """The answer as JSON values. Optional fields left empty are left out, so listings stay
        compact; required ones stay (as null), so the answer still fits the result schema."""
        return self.result.model_dump(mode="json", exclude_defaults=True)


Handler = Callable[[TaskRepository, str, ArgsT], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class TaskOperation(Generic[ArgsT]):
    name: str
    description: str
    """What the model (or an MCP client's model) reads to decide when and how to call it."""
    arguments: type[ArgsT]
    result: type[BaseModel]
    handler: Handler[ArgsT]
    activity: Callable[[ArgsT], str]
    """What the call is doing, in a few words ("Creating task 'buy milk'")."""
    read_only: bool = False
    schema: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "schema", self.arguments.model_json_schema())

    def parse(self, raw: Mapping[str, Any] | None) -> ArgsT:
        """Validated arguments, or `InvalidInputError` naming the first problem."""
        try:
            return self.arguments.model_validate(raw or {})
        except ValidationError as exc:
            raise InvalidInputError(describe_invalid(self.name, exc)) from exc

    async def run(
        self, tasks: TaskRepository, user_id: str, raw: Mapping[str, Any] | None
    ) -> Outcome:
        """Validate `raw` and run the handler for `user_id` (the authenticated user only)."""
        return await self.handler(tasks, user_id, self.parse(raw))

    def describe(self, raw: Mapping[str, Any] | None) -> str:
        """The activity line for these arguments, or the tool's name when they are invalid."""
        try:
            return self.activity(self.arguments.model_validate(raw or {}))
        except ValidationError:
            return self.name.replace("_", " ").capitalize()


def describe_invalid(name: str, exc: ValidationError) -> str:
    """One readable line for the model or a client: which argument and what is wrong with it."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not an argument of this tool"
        problems.append(f"{where}: {message}")
    return f"Invalid arguments for {name}: " + "; ".join(problems) + "."


def _quoted(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f"'{text[:limit]}...'" if len(text) > limit else f"'{text}'"


async def _create(tasks: TaskRepository, user_id: str, args: CreateTaskArgs) -> Outcome:
    task = await tasks.create(
        user_id,
        args.title,
        args.description,
        due_date=args.due_date,
        priority=args.priority,
    )
    return Outcome(TaskResult(task=TaskOut.of(task)), changed=True)


async def _list(tasks: TaskRepository, user_id: str, args: ListTasksArgs) -> Outcome:
    page = await tasks.list_recent(user_id, args.status)
    return Outcome(
        TaskListResult.of(page, args.status),
        changed=False,
        listing=TaskListing(page.tasks, args.status),
    )


async def _update(tasks: TaskRepository, user_id: str, args: UpdateTaskArgs) -> Outcome:
    task = await tasks.update(
        user_id,
        args.task_id,
        title=args.title,
        description=args.description,
        due_date=args.due_date,
        priority=args.priority,
        clear=args.clear,
    )
    return Outcome(TaskResult(task=TaskOut.of(task)), changed=True)


async def _delete(tasks: TaskRepository, user_id: str, args: TaskIdArgs) -> Outcome:
    task = await tasks.delete(user_id, args.task_id)
    return Outcome(DeletedResult(deleted=TaskOut.of(task)), changed=True)


async def _complete(tasks: TaskRepository, user_id: str, args: TaskIdArgs) -> Outcome:
    task = await tasks.complete(user_id, args.task_id)
    return Outcome(TaskResult(task=TaskOut.of(task)), changed=True)


async def _bulk_complete(tasks: TaskRepository, user_id: str, args: TaskIdsArgs) -> Outcome:
    result = await tasks.bulk_complete(user_id, args.task_ids)
    return Outcome(
        BulkCompleteResult(completed=result.done, not_found=result.not_found),
        changed=bool(result.done),
    )


async def _bulk_delete(tasks: TaskRepository, user_id: str, args: TaskIdsArgs) -> Outcome:
    result = await tasks.bulk_delete(user_id, args.task_ids)
    return Outcome(
        BulkDeleteResult(deleted=result.done, not_found=result.not_found),
        changed=bool(result.done),
    )


def _listing_activity(args: ListTasksArgs) -> str:
    return "Listing tasks" if args.status == "all" else f"Listing {args.status} tasks"


CREATE_TASK: Final = TaskOperation(
    name="create_task",
    description=(
        "Create a new task for the user. Titles are short (1-255 characters); put details in the"
        " description. Set due_date (YYYY-MM-DD) when the user names a day, and priority"
        " (low, medium, high) when they say how important it is."
    ),
    arguments=CreateTaskArgs,
    result=TaskResult,
    handler=_create,
    activity=lambda args: f"Creating task {_quoted(args.title)}",
)
LIST_TASKS: Final = TaskOperation(
    name="list_tasks",
    description=(
        "List the user's tasks, newest first: id, title, completed, and description, due_date"
        " and priority when set. At most 50 are returned; a note says when there are more."
    ),
    arguments=ListTasksArgs,
    result=TaskListResult,
    handler=_list,
    activity=_listing_activity,
    read_only=True,
)
UPDATE_TASK: Final = TaskOperation(
    name="update_task",
    description=(
        "Change a task's title, description, due date or priority. Give only what changes;"
        " to remove the description, due date or priority, name it in `clear`."
    ),
    arguments=UpdateTaskArgs,
    result=TaskResult,
    handler=_update,
    activity=lambda args: f"Updating task #{args.task_id}",
)
DELETE_TASK: Final = TaskOperation(
    name="delete_task",
    description="Delete a task. A task id that does not exist is reported as not found.",
    arguments=TaskIdArgs,
    result=DeletedResult,
    handler=_delete,
    activity=lambda args: f"Deleting task #{args.task_id}",
)
COMPLETE_TASK: Final = TaskOperation(
    name="complete_task",
    description="Mark a task as completed. Completing an already completed task is harmless.",
    arguments=TaskIdArgs,
    result=TaskResult,
    handler=_complete,
    activity=lambda args: f"Completing task #{args.task_id}",
)
BULK_COMPLETE_TASKS: Final = TaskOperation(
    name="bulk_complete_tasks",
    description=(
        "Mark several tasks as completed at once (1 to 100 ids, all in one transaction)."
        " Answers which ids were completed and which were not found."
    ),
    arguments=TaskIdsArgs,
    result=BulkCompleteResult,
    handler=_bulk_complete,
    activity=lambda args: f"Completing {len(args.task_ids)} tasks",
)
BULK_DELETE_TASKS: Final = TaskOperation(
    name="bulk_delete_tasks",
    description=(
        "Delete several tasks at once (1 to 100 ids, all in one transaction)."
        " Answers which ids were deleted and which were not found."
    ),
    arguments=TaskIdsArgs,
    result=BulkDeleteResult,
    handler=_bulk_delete,
    activity=lambda args: f"Deleting {len(args.task_ids)} tasks",
)

CATALOG: Final[tuple[TaskOperation[Any], ...]] = (
    CREATE_TASK,
    LIST_TASKS,
    UPDATE_TASK,
    DELETE_TASK,
    COMPLETE_TASK,
    BULK_COMPLETE_TASKS,
    BULK_DELETE_TASKS,
)
BY_NAME: Final[Mapping[str, TaskOperation[Any]]] = {op.name: op for op in CATALOG}
