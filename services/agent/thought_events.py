"""One thought task per model call, not one fused thought per turn.

On a Chat Completions model the Agents SDK ends a reasoning summary with
`response.reasoning_summary_part.done` only, while `chatkit.agents.stream_agent_response` waits
for `response.reasoning_summary_text.done` to finish the thought it is streaming. Without it,
every later model call of the turn (after a tool round) has the same item id and summary index,
so chatkit appends its thought to the first one, run together. Each part's end is followed here
by the text-done event chatkit expects; the next call's thought then becomes a task of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from agents import RawResponsesStreamEvent, StreamEvent
from openai.types.responses import ResponseReasoningSummaryTextDoneEvent


async def with_thought_ends(events: AsyncIterator[StreamEvent]) -> AsyncIterator[StreamEvent]:
    async for event in events:
        yield event
        if not isinstance(event, RawResponsesStreamEvent):
            continue
        data = event.data
        if data.type == "response.reasoning_summary_part.done":
            yield RawResponsesStreamEvent(
                data=ResponseReasoningSummaryTextDoneEvent(
                    type="response.reasoning_summary_text.done",
                    item_id=data.item_id,
                    output_index=data.output_index,
                    summary_index=data.summary_index,
                    text=data.part.text,
                    sequence_number=data.sequence_number,
                )
            )
