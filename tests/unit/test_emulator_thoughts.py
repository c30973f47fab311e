"""The emulator's thought summaries: in the content, tagged only when a marker is asked for."""

from __future__ import annotations

from typing import Any

import pytest

from services.gemini_emulator.chunks import new_meta
from services.gemini_emulator.profiles import profile_for
from services.gemini_emulator.thoughts import (
    THOUGHT_SUMMARY,
    ThoughtRequest,
    requested_thoughts,
    thought_chunks,
)
from services.gemini_emulator.validation import validate_chat_request


def body(google: Any = None, **fields: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "model": "gemini-3.8-flash",
        "messages": [{"role": "user", "content": "hi"}],
        **fields,
    }
    if google is not None:
        request["extra_body"] = {"google": google}
    return request


def test_thoughts_come_only_when_asked_for_and_tagged_only_with_a_marker() -> None:
    asked = {"thinking_config": {"include_thoughts": True}}
    assert requested_thoughts(body()) is None
    assert requested_thoughts(body({"thinking_config": {"thinking_level": "low"}})) is None
    assert requested_thoughts(body(asked)) == ThoughtRequest(None)
    tagged = requested_thoughts(body({**asked, "thought_tag_marker": "think"}))
    assert tagged == ThoughtRequest("think")
    assert tagged.text() == f"<think>{THOUGHT_SUMMARY}</think>"
    assert ThoughtRequest(None).text().startswith(THOUGHT_SUMMARY)  # untagged, as Vertex sends


def test_streamed_tags_are_cut_across_chunks() -> None:
    chunks = thought_chunks(
        new_meta("gemini-3.8-flash", 4), ThoughtRequest("thought"), every_chunk_usage=True
    )
    pieces = [c["choices"][0]["delta"]["content"] for c in chunks]
    assert "".join(pieces) == f"<thought>{THOUGHT_SUMMARY}</thought>"
    assert not any("<thought>" in p or "</thought>" in p for p in pieces)
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


@pytest.mark.parametrize("marker", ["thought", "think"])
def test_a_thought_tag_marker_is_accepted_next_to_the_thinking_config(marker: str) -> None:
    google = {"thinking_config": {"include_thoughts": True}, "thought_tag_marker": marker}
    model = "gemini-3.8-flash"
    assert validate_chat_request(body(google), profile_for(model)) is None


@pytest.mark.parametrize(
    ("google", "problem"),
    [
        (
            {"thought_marker": "x"},
            "Invalid JSON payload received. Unknown name \"thought_marker\" at "
            "'extra_body.google': Cannot find field.",
        ),
        ({"thought_tag_marker": ""}, "Invalid value at 'thought_tag_marker': expected a "
         "non-empty string."),
        ({"thought_tag_marker": 1}, "Invalid value at 'thought_tag_marker': expected a "
         "non-empty string."),
        ("x", "Invalid value at 'extra_body.google': expected an object."),
    ],
)  # fmt: skip
def test_unknown_or_malformed_google_fields_are_refused(google: Any, problem: str) -> None:
    assert validate_chat_request(body(google)) == problem
