"""The message length limit counts every part of a message that can reach the model (issue 17.3):
text, the quoted text and each tag's text and data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chatkit.types import ChatKitReq

from services.gateway.chatkit_requests import parse_chatkit_request
from services.gateway.request_limits import check_message_length
from shared.errors import InvalidInputError

LIMIT = 100


def create(content: list[dict[str, Any]], quoted_text: str | None = None) -> ChatKitReq:
    message: dict[str, Any] = {
        "content": content,
        "attachments": [],
        "quoted_text": quoted_text,
        "inference_options": {},
    }
    body = {"type": "threads.create", "params": {"input": message}}
    return parse_chatkit_request(json.dumps(body).encode())


def text(value: str) -> dict[str, Any]:
    return {"type": "input_text", "text": value}


def tag(value: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "input_tag", "id": "t1", "text": value, "data": data or {}}


def test_a_message_within_the_limit_passes() -> None:
    check_message_length(create([text("a" * 60)], quoted_text="q" * 30), LIMIT)


@pytest.mark.parametrize(
    "message",
    [
        create([text("a" * (LIMIT + 1))]),
        create([text("short")], quoted_text="q" * LIMIT),
        create([text("short"), tag("t" * LIMIT)]),
        create([text("short"), tag("task", {"notes": "n" * LIMIT})]),
    ],
    ids=["text", "quoted_text", "tag text", "tag data"],
)
def test_every_part_counts(message: ChatKitReq) -> None:
    with pytest.raises(InvalidInputError, match=f"the limit is {LIMIT}"):
        check_message_length(message, LIMIT)
