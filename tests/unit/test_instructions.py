"""The system prompt carries today's date, so "on Friday" can become a due date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from services.agent.instructions import DEFAULT_SYSTEM_PROMPT, dated_instructions


def test_built_in_prompt_ends_with_today() -> None:
    now = datetime(2026, 11, 28, 23, 30, tzinfo=timezone(timedelta(hours=-5)))  # 04:30 UTC
    text = dated_instructions(DEFAULT_SYSTEM_PROMPT, lambda: now)(None, None)
    assert text.endswith("Today is Sunday, 2026-11-29 (UTC).\n")
    assert "{today}" not in text


def test_a_prompt_file_chooses_where_the_date_goes() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert dated_instructions("Plain prompt.", lambda: now)(None, None) == "Plain prompt."
    assert dated_instructions("It is {today}.", lambda: now)(None, None) == (
        "It is Friday, 2026-12-04 (UTC)."
    )
