"""Remembering tool calls across turns.

chatkit keeps no server-side tool calls in the thread, so on the next turn the model would not
know the task ids it was given. Each call and its result are saved as a hidden context item
(never sent to the browser) that the history converter turns back into a function call and its
output.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from agents import RunContextWrapper
from agents.tool_context import ToolContext
from chatkit.types import HiddenContextItem, ThreadItemDoneEvent

from services.agent.agent_context import TaskAgentContext

TOOL_CALL_KIND = "tool_call"


def tool_call_record(call_id: str, name: str, arguments: str, output: str) -> dict[str, Any]:
    return {
        "kind": TOOL_CALL_KIND,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "output": output,
    }


def is_tool_call_record(content: object) -> bool:
    return isinstance(content, dict) and content.get("kind") == TOOL_CALL_KIND


async def remember_tool_call(ctx: RunContextWrapper[TaskAgentContext], output: str) -> None:
    if not isinstance(ctx, ToolContext):
        return
    context = ctx.context
    item = HiddenContextItem(
        id=context.generate_id("message"),
        thread_id=context.thread.id,
        created_at=datetime.now(),
        content=tool_call_record(ctx.tool_call_id, ctx.tool_name, ctx.tool_arguments, output),
    )
    # chatkit saves a done item and, being hidden, does not send it to the browser.
    await context.stream(ThreadItemDoneEvent(item=item))
