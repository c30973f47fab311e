"""The system prompt: built in, or from `SYSTEM_PROMPT_FILE`.

Due dates need today's date ("remind me to pay rent on Friday"), so the prompt is completed on
every run: the built-in prompt ends with it, and a prompt file may place it with `{today}`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TODAY_PLACEHOLDER = "{today}"

DEFAULT_SYSTEM_PROMPT = """\
You are TaskChat, an assistant that manages the user's to-do list through the tools you have.
- Use the tools for every change or lookup; never invent task ids, look them up with list_tasks.
- Several independent changes may be made with several tool calls at once.
- When the user names a day or says how important a task is, set its due_date or priority.
- When a tool returns an error, explain it briefly and suggest what to do.
- Keep answers short and friendly; refer to tasks by their id and title.
Today is {today}.
"""


def load_system_prompt(path: str | None) -> str:
    if path is None:
        return DEFAULT_SYSTEM_PROMPT
    return Path(path).read_text(encoding="utf-8")


def today_text(now: datetime) -> str:
    """E.g. "Saturday, 2026-11-28 (UTC)"."""
    return now.astimezone(UTC).strftime("%A, %Y-%m-%d (UTC)")


def dated_instructions(
    prompt: str, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Callable[[Any, Any], str]:
    """Agents SDK dynamic instructions: `prompt` with `{today}` filled in at each run."""

    def instructions(_context: Any, _agent: Any) -> str:
        return prompt.replace(TODAY_PLACEHOLDER, today_text(clock()))

    return instructions
