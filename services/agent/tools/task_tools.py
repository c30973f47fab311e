"""The seven task tools as Agents SDK function tools, built from the one catalog
(`shared/tasks/operations/catalog.py`), run in-process against the worker's repository.

The user always comes from the turn's context, never from arguments. A tool that fails (bad
arguments, no such task) returns `{"error": ...}` for the model to read and recover from,
instead of raising into the run. A call that changed tasks streams a `tasks_changed` client
effect, so a task panel next to the chat can refresh.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Final

from agents import FunctionTool
from agents.tool_context import ToolContext
from chatkit.types import ClientEffectEvent, CustomTask

from services.agent.agent_context import TaskAgentContext
from services.agent.observability.metrics import record_tool_call
from services.agent.tools.activity import tool_activity
from services.agent.tools.tool_memory import remember_tool_call
from shared.errors import TaskChatError
from shared.tasks.models import Task
from shared.tasks.operations.catalog import CATALOG, Outcome, TaskOperation
from shared.tasks.validation import TaskStatus
from shared.tasks.widget import task_list_copy_text, task_list_widget

TASKS_CHANGED_EFFECT: Final = "tasks_changed"
SIBLING_TOOLS_WAIT_S = 5.0
SIBLING_TOOLS_POLL_S = 0.02


def _arguments(raw: str) -> dict[str, Any] | None:
    """The call's JSON arguments as an object; None when they are not one."""
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


async def _invoke(
    operation: TaskOperation[Any], ctx: ToolContext[TaskAgentContext], raw: str
) -> str:
    context = ctx.context
    context.tool_calls += 1
    arguments = _arguments(raw)
    outcome: Outcome | None = None
    async with tool_activity(context, operation.describe(arguments)):
        try:
            if arguments is None:
                raise TaskChatError(f"The arguments of {operation.name} must be a JSON object.")
            outcome = await operation.run(context.tasks, context.user_id, arguments)
            result: dict[str, Any] = outcome.to_json()
        except TaskChatError as exc:
            result = {"error": exc.detail}
    record_tool_call(operation.name, failed="error" in result)
    output = json.dumps(result)
    await remember_tool_call(ctx, output)
    if outcome is not None and outcome.changed:
        await context.stream(
            ClientEffectEvent(name=TASKS_CHANGED_EFFECT, data={"tool": operation.name})
        )
    if outcome is not None and outcome.listing is not None:
        # The widget lists oldest first, as it does when its buttons re-render it
        # (`shared/tasks/actions.py`), so rows do not jump around after a press.
        shown = sorted(outcome.listing.tasks, key=lambda task: task.id)
        await _show_task_list(context, shown, outcome.listing.status)
    return output


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


def function_tool(operation: TaskOperation[Any]) -> FunctionTool:
    """`operation` as a function tool with its catalog name, description and schema."""

    async def invoke(ctx: ToolContext[Any], raw: str) -> str:
        return await _invoke(operation, ctx, raw)

    return FunctionTool(
        name=operation.name,
        description=operation.description,
        params_json_schema=operation.schema,
        on_invoke_tool=invoke,
        # Strict mode would make every field required and nullable; Gemini needs neither.
        strict_json_schema=False,
    )


def task_tools() -> list[FunctionTool]:
    """The seven task tools, in catalog order."""
    return [function_tool(operation) for operation in CATALOG]
