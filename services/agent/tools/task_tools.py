"""The seven task tools. The user always comes from the turn's context, never from arguments.

A tool that fails (no such task, bad title) returns `{"error": ...}` for the model to read and
recover from, instead of raising into the run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from agents import FunctionTool, function_tool
from agents.tool_context import ToolContext
from chatkit.types import CustomTask

from services.agent.agent_context import TaskAgentContext
from services.agent.observability.metrics import record_tool_call
from services.agent.tools.activity import tool_activity
from services.agent.tools.tool_memory import remember_tool_call
from shared.errors import TaskChatError
from shared.tasks.models import Task
from shared.tasks.validation import TaskStatus
from shared.tasks.widget import task_list_copy_text, task_list_widget

Ctx = ToolContext[TaskAgentContext]
"""The SDK hands every function tool a ToolContext: the run context plus the tool's name."""
MAX_BULK_IDS = 100
SIBLING_TOOLS_WAIT_S = 5.0
SIBLING_TOOLS_POLL_S = 0.02


async def _run(ctx: Ctx, title: str, action: Callable[[], Awaitable[dict[str, Any]]]) -> str:
    ctx.context.tool_calls += 1
    async with tool_activity(ctx.context, title):
        try:
            result = await action()
        except TaskChatError as exc:
            result = {"error": exc.detail}
    record_tool_call(ctx.tool_name, failed="error" in result)
    output = json.dumps(result)
    await remember_tool_call(ctx, output)
    return output


def _task(task: Task) -> dict[str, Any]:
    return {"task": task.to_dict()}


def _quoted(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return f"'{text[:limit]}...'" if len(text) > limit else f"'{text}'"


@function_tool(strict_mode=False)
async def create_task(ctx: Ctx, title: str, description: str | None = None) -> str:
    """Create a new task for the user.

    Args:
        title: Short title of the task (1-255 characters).
        description: Optional longer description (up to 2000 characters).
    """
    repo, user = ctx.context.tasks, ctx.context.user_id

    async def action() -> dict[str, Any]:
        return _task(await repo.create(user, title, description))

    return await _run(ctx, f"Creating task {_quoted(title)}", action)


async def _show_task_list(context: TaskAgentContext, tasks: list[Task], status: TaskStatus) -> None:
    # chatkit closes the open workflow when a widget follows it; a tool running in parallel
    # would then update a closed workflow (ValueError) or another one. So the widget waits
    # until every sibling's progress row is done, and the workflow is closed here, in order.
    # The wait is bounded: a row left "loading" by a cancelled earlier turn never finishes.
    # No event to wait on (the rows belong to chatkit's context), so this polls.
    for _ in range(int(SIBLING_TOOLS_WAIT_S / SIBLING_TOOLS_POLL_S)):
        if not _tools_running(context):
            break
        await asyncio.sleep(SIBLING_TOOLS_POLL_S)
    await context.end_workflow()
    await context.stream_widget(
        task_list_widget(tasks, status), copy_text=task_list_copy_text(tasks, status)
    )


def _tools_running(context: TaskAgentContext) -> bool:
    workflow = context.workflow_item
    return workflow is not None and any(
        isinstance(task, CustomTask) and task.status_indicator == "loading"
        for task in workflow.workflow.tasks
    )


@function_tool(strict_mode=False)
async def list_tasks(ctx: Ctx, status: Literal["all", "pending", "completed"] = "all") -> str:
    """List the user's tasks.

    Args:
        status: Which tasks to list: "all", "pending" or "completed".
    """
    repo, user = ctx.context.tasks, ctx.context.user_id
    listed: list[Task] | None = None

    async def action() -> dict[str, Any]:
        nonlocal listed
        listed = await repo.list(user, status)
        return {"status": status, "count": len(listed), "tasks": [t.to_dict() for t in listed]}

    label = "tasks" if status == "all" else f"{status} tasks"
    output = await _run(ctx, f"Listing {label}", action)
    if listed is not None:  # None: the listing failed (e.g. a bad status) and the model is told
        await _show_task_list(ctx.context, listed, status)
    return output


@function_tool(strict_mode=False)
async def update_task(
    ctx: Ctx, task_id: int, title: str | None = None, description: str | None = None
) -> str:
    """Change the title and/or description of a task.

    Args:
        task_id: Id of the task to change.
        title: New title, if it changes.
        description: New description, if it changes.
    """
    repo, user = ctx.context.tasks, ctx.context.user_id

    async def action() -> dict[str, Any]:
        return _task(await repo.update(user, task_id, title=title, description=description))

    return await _run(ctx, f"Updating task #{task_id}", action)


@function_tool(strict_mode=False)
async def delete_task(ctx: Ctx, task_id: int) -> str:
    """Delete a task.

    Args:
        task_id: Id of the task to delete.
    """
    repo, user = ctx.context.tasks, ctx.context.user_id

    async def action() -> dict[str, Any]:
        return {"deleted": (await repo.delete(user, task_id)).to_dict()}

    return await _run(ctx, f"Deleting task #{task_id}", action)


@function_tool(strict_mode=False)
async def complete_task(ctx: Ctx, task_id: int) -> str:
    """Mark a task as completed.

    Args:
        task_id: Id of the task to complete.
    """
    repo, user = ctx.context.tasks, ctx.context.user_id

    async def action() -> dict[str, Any]:
        return _task(await repo.complete(user, task_id))

    return await _run(ctx, f"Completing task #{task_id}", action)


@function_tool(strict_mode=False)
async def bulk_complete_tasks(ctx: Ctx, task_ids: list[int]) -> str:
    """Mark several tasks as completed at once.

    Args:
        task_ids: Ids of the tasks to complete (at most 100).
    """
    repo, user = ctx.context.tasks, ctx.context.user_id

    async def action() -> dict[str, Any]:
        result = await repo.bulk_complete(user, task_ids)
        return {"completed": result.done, "not_found": result.not_found}

    return await _run(ctx, f"Completing {len(task_ids)} tasks", action)


@function_tool(strict_mode=False)
async def bulk_delete_tasks(ctx: Ctx, task_ids: list[int]) -> str:
    """Delete several tasks at once.

    Args:
        task_ids: Ids of the tasks to delete (at most 100).
    """
    repo, user = ctx.context.tasks, ctx.context.user_id

    async def action() -> dict[str, Any]:
        result = await repo.bulk_delete(user, task_ids)
        return {"deleted": result.done, "not_found": result.not_found}

    return await _run(ctx, f"Deleting {len(task_ids)} tasks", action)


TASK_TOOLS: list[FunctionTool] = [
    create_task,
    list_tasks,
    update_task,
    delete_task,
    complete_task,
    bulk_complete_tasks,
    bulk_delete_tasks,
]
