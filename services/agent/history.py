"""Turning stored thread items into model input.

- Earlier assistant messages go back as plain assistant text: chatkit's default sends
  `output_text` parts, which the Agents SDK's Chat Completions converter rejects ("Unknown
  content"), so every thread's second turn would crash.
- Tool calls saved as hidden items (`tools/tool_memory.py`) go back as function calls with their
  outputs, grouped the way the model made them (all calls of a round, then their outputs).
- Workflow items only mirror those tool calls for the user, so they are not sent again; a widget
  is sent as its short text copy, not its component tree.
- Attached images go to the model inline, read from the blob store for the turn's user: each
  image once per request, newest first within `MODEL_MAX_INLINE_BYTES`; the others become a
  short note (`shared/attachments/inline_budget.py`).
- An @-mention of a task (`input_tag`) names the user's task by id and title, or is plain text
  when it names none of theirs (`task_tags.py`); chatkit's default raises for every tag.
- The window of recent items starts at a user message, so it never opens with a tool output
  whose call was cut off (Gemini refuses that).
"""

from __future__ import annotations

from collections.abc import Sequence

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import (
    AssistantMessageItem,
    Attachment,
    HiddenContextItem,
    ThreadItem,
    UserMessageItem,
    UserMessageTagContent,
    WidgetItem,
    WorkflowItem,
)
from openai.types.responses import (
    EasyInputMessageParam,
    ResponseFunctionToolCallParam,
    ResponseInputContentParam,
    ResponseInputTextParam,
)
from openai.types.responses.response_input_item_param import FunctionCallOutput

from services.agent.task_tags import task_tag_to_input
from services.agent.tools.tool_memory import is_tool_call_record
from shared.attachments.blob_store import BlobStore
from shared.attachments.inline_budget import InlinePlan, plan_inline_images, unique_attachments
from shared.attachments.model_input import attachment_to_model_input, left_out_note
from shared.tasks.repository import TaskRepository


def from_first_user_message(items: Sequence[ThreadItem]) -> list[ThreadItem]:
    for index, item in enumerate(items):
        if isinstance(item, UserMessageItem):
            return list(items[index:])
    return list(items)


class HistoryConverter(ThreadItemConverter):
    """Made per turn: attached images are read with the turn's user, within the inline budget;
    tagged tasks are looked up for the same user."""

    def __init__(
        self, blobs: BlobStore, tasks: TaskRepository, user_id: str, max_inline_bytes: int
    ) -> None:
        self._blobs = blobs
        self._tasks = tasks
        self._user_id = user_id
        self._max_inline_bytes = max_inline_bytes
        self._plan = InlinePlan()
        self._sent: set[str] = set()

    async def tag_to_message_content(self, tag: UserMessageTagContent) -> ResponseInputTextParam:
        return await task_tag_to_input(tag, self._tasks, self._user_id)

    async def attachment_to_message_content(
        self, attachment: Attachment
    ) -> ResponseInputContentParam:
        if attachment.id in self._sent:
            return left_out_note(attachment, "it is the same image as attached earlier")
        if attachment.id in self._plan.over_budget:
            return left_out_note(attachment, "older images are left out to keep the request small")
        self._sent.add(attachment.id)
        # Inline, or a note for an image that is missing or of a type the model cannot read.
        return await attachment_to_model_input(attachment, self._blobs, self._user_id)

    async def user_message_to_input(
        self, item: UserMessageItem, is_last_message: bool = True
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        # A message may list one image many times; it is read and sent once.
        unique = item.model_copy(update={"attachments": unique_attachments(item.attachments)})
        return await super().user_message_to_input(unique, is_last_message)

    async def assistant_message_to_input(
        self, item: AssistantMessageItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        text = "".join(part.text for part in item.content)
        if not text.strip():
            return None
        return EasyInputMessageParam(type="message", role="assistant", content=text)

    async def hidden_context_to_input(
        self, item: HiddenContextItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        content = item.content
        if is_tool_call_record(content):
            return [
                ResponseFunctionToolCallParam(
                    type="function_call",
                    call_id=content["call_id"],
                    name=content["name"],
                    arguments=content["arguments"],
                ),
                FunctionCallOutput(
                    type="function_call_output",
                    call_id=content["call_id"],
                    output=content["output"],
                ),
            ]
        return EasyInputMessageParam(
            type="message", role="user", content=f"<context>{content}</context>"
        )

    async def workflow_to_input(
        self, item: WorkflowItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        return None

    async def widget_to_input(
        self, item: WidgetItem
    ) -> TResponseInputItem | list[TResponseInputItem] | None:
        if not item.copy_text:
            return None
        return EasyInputMessageParam(
            type="message",
            role="user",
            content=f"<widget shown to the user>{item.copy_text}</widget shown to the user>",
        )

    async def to_agent_input(
        self, thread_items: Sequence[ThreadItem] | ThreadItem
    ) -> list[TResponseInputItem]:
        items = from_first_user_message(
            thread_items if isinstance(thread_items, Sequence) else [thread_items]
        )
        self._plan = await plan_inline_images(
            [item.attachments for item in reversed(items) if isinstance(item, UserMessageItem)],
            self._blobs,
            self._user_id,
            self._max_inline_bytes,
        )
        self._sent = set()
        return group_tool_rounds(await super().to_agent_input(items))


def group_tool_rounds(items: list[TResponseInputItem]) -> list[TResponseInputItem]:
    """Reorder each run of call/output pairs into calls first, then outputs, so parallel calls
    become one assistant message with several tool calls, as the model produced them."""
    grouped: list[TResponseInputItem] = []
    calls: list[TResponseInputItem] = []
    outputs: list[TResponseInputItem] = []
    for item in items:
        kind = item.get("type") if isinstance(item, dict) else None
        if kind == "function_call":
            calls.append(item)
        elif kind == "function_call_output":
            outputs.append(item)
        else:
            grouped += calls + outputs
            calls, outputs = [], []
            grouped.append(item)
    return grouped + calls + outputs
