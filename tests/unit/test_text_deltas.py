"""Text deltas written with msgspec read exactly as chatkit's own serialization of them."""

from __future__ import annotations

import json

from chatkit.types import (
    AssistantMessageContentPartTextDelta,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
)

from shared.turns.text_deltas import TextDelta, encode_text_delta, text_delta_of


def chatkit_json(event: ThreadItemUpdatedEvent) -> bytes:
    """What chatkit's `ChatKitServer._serialize` writes."""
    return event.model_dump_json(
        by_alias=True, exclude_none=True, context={"exclude_metadata": True}
    ).encode()


def test_a_delta_is_written_as_chatkit_writes_it() -> None:
    for text in ("Hello", ' "quoted" \\ and\nnew line', "é 漢字 🙂", ""):
        event = ThreadItemUpdatedEvent(
            item_id="msg_1",
            update=AssistantMessageContentPartTextDelta(content_index=2, delta=text),
        )
        assert encode_text_delta("msg_1", 2, text) == chatkit_json(event)
        assert json.loads(encode_text_delta("msg_1", 2, text))["update"]["delta"] == text


def test_only_text_deltas_are_taken_apart() -> None:
    update = ThreadItemUpdatedEvent(
        item_id="msg_1", update=AssistantMessageContentPartTextDelta(content_index=0, delta="hi")
    )
    assert text_delta_of(update) == TextDelta("msg_1", 0, "hi")
    done = ThreadItemDoneEvent.model_validate(
        {
            "item": {
                "type": "assistant_message",
                "id": "msg_1",
                "thread_id": "thr_1",
                "created_at": "2026-01-01T00:00:00Z",
                "content": [],
            }
        }
    )
    assert text_delta_of(done) is None
