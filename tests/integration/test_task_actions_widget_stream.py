"""The list tool's widget waits for tools running beside it before it closes their workflow.

chatkit ends the open workflow when a widget follows it; a parallel tool finishing afterwards
would update a closed workflow. Real chatkit context, real store; only the sibling is held open.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from chatkit.types import (
    ThreadItem,
    ThreadItemDoneEvent,
    ThreadMetadata,
    WidgetItem,
    WorkflowItem,
)

from services.agent.agent_context import TaskAgentContext
from services.agent.tools.activity import tool_activity
from services.agent.tools.task_tools import _show_task_list
from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore
from shared.tasks.repository import TaskRepository


def done_items(context: TaskAgentContext) -> list[ThreadItem]:
    items: list[ThreadItem] = []
    while not context._events.empty():
        event = context._events.get_nowait()
        if isinstance(event, ThreadItemDoneEvent):
            items.append(event.item)
    return items


async def test_widget_follows_the_parallel_tools_workflow(db_pool: DbPool) -> None:
    context = TaskAgentContext(
        thread=ThreadMetadata(id="thr_1", created_at=datetime.now(UTC)),
        store=PostgresStore(db_pool),
        request_context=RequestContext(user_id="alice"),
        tasks=TaskRepository(db_pool),
    )
    sibling_may_finish = asyncio.Event()

    async def sibling_tool() -> None:
        async with tool_activity(context, "Creating task 'x'"):
            await sibling_may_finish.wait()

    async def list_tool() -> None:
        async with tool_activity(context, "Listing tasks"):
            pass
        await _show_task_list(context, [], "all")

    sibling = asyncio.create_task(sibling_tool())
    listing = asyncio.create_task(list_tool())
    await asyncio.sleep(0.1)
    assert not listing.done(), "the widget must wait for the sibling tool"
    sibling_may_finish.set()
    await asyncio.wait_for(asyncio.gather(sibling, listing), timeout=5)

    done = done_items(context)
    assert [type(item) for item in done] == [WorkflowItem, WidgetItem]
    workflow = done[0]
    assert isinstance(workflow, WorkflowItem)
    assert [t.status_indicator for t in workflow.workflow.tasks] == ["complete", "complete"]
    assert context.workflow_item is None
