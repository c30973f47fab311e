"""Turning stored thread items into model input.

chatkit's default converter sends earlier assistant messages back as `output_text` parts, which the
Agents SDK's Chat Completions converter rejects ("Unknown content"): the second turn of every thread
would crash. Earlier assistant messages go back as plain assistant text instead.
"""

from __future__ import annotations

from agents import TResponseInputItem
from chatkit.agents import ThreadItemConverter
from chatkit.types import AssistantMessageItem, HiddenContextItem
from openai.types.responses import EasyInputMessageParam


class HistoryConverter(ThreadItemConverter):
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
        return EasyInputMessageParam(
            type="message", role="user", content=f"<context>{item.content}</context>"
        )
