"""SSE framing used by `taskchat chat`."""

from __future__ import annotations

from services.chatkit_client.sse import SseParser, iter_sse_data


def test_events_are_split_on_blank_lines_and_comments_ignored() -> None:
    lines = [": keep-alive", "", 'data: {"a":1}', "", "data: x", "data: y", "", ": ping"]
    assert list(iter_sse_data(lines)) == ['{"a":1}', "x\ny"]


def test_unterminated_last_event_is_flushed() -> None:
    assert list(iter_sse_data(["data: tail"])) == ["tail"]


def test_carriage_returns_and_other_fields_are_tolerated() -> None:
    parser = SseParser()
    assert parser.feed("event: message\r") is None
    assert parser.feed("data:no-space\r") is None
    assert parser.feed("\r") == "no-space"
    assert parser.flush() is None
