"""Showing a tool call to the user while it runs, as a task in a ChatKit workflow item.

chatkit's converter shows nothing for server-side tool calls; a workflow task per call lets the
user see "Creating task 'buy milk'..." turn into a done mark, and it stays in the thread. A
progress update with the same text goes out too: ChatKit.js shows it by the composer while the
tool runs, where the workflow may be scrolled out of sight.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chatkit.types import CustomTask, ProgressUpdateEvent

from services.agent.agent_context import TaskAgentContext


@asynccontextmanager
async def tool_activity(context: TaskAgentContext, title: str) -> AsyncIterator[CustomTask]:
    task = CustomTask(title=title, icon="check-circle", status_indicator="loading")
    await context.stream(ProgressUpdateEvent(icon="check-circle", text=title))
    await context.add_workflow_task(task)
    assert context.workflow_item is not None
    index = context.workflow_item.workflow.tasks.index(task)
    try:
        yield task
    finally:
        # Shown as finished either way; a failure's text goes to the model, which tells the user.
        await context.update_workflow_task(
            task.model_copy(update={"status_indicator": "complete"}), index
        )
