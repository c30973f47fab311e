"""Giving every streamed item a real, unique id.

With Chat Completions models the Agents SDK labels every assistant message `__fake_id__`, and
`chatkit.agents.stream_agent_response` reuses that as the thread item id, so a turn's second message
(or the next turn's) would overwrite the first. Each item gets a fresh id, used consistently across
its added, updated and done events.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from agents.models.fake_id import FAKE_RESPONSES_ID
from chatkit.types import (
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)


async def with_unique_item_ids(
    events: AsyncIterator[ThreadStreamEvent], new_id: Callable[[], str]
) -> AsyncIterator[ThreadStreamEvent]:
    current: str | None = None
    async for event in events:
        match event:
            case ThreadItemAddedEvent() if event.item.id == FAKE_RESPONSES_ID:
                current = new_id()
                event = event.model_copy(
                    update={"item": event.item.model_copy(update={"id": current})}
                )
            case ThreadItemUpdatedEvent() if event.item_id == FAKE_RESPONSES_ID:
                if current is None:
                    current = new_id()
                event = event.model_copy(update={"item_id": current})
            case ThreadItemDoneEvent() if event.item.id == FAKE_RESPONSES_ID:
                item_id = current or new_id()
                current = None
                event = event.model_copy(
                    update={"item": event.item.model_copy(update={"id": item_id})}
                )
        yield event
