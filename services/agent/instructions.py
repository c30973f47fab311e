"""The system prompt: built in, or from `SYSTEM_PROMPT_FILE`."""

from __future__ import annotations

from pathlib import Path

DEFAULT_SYSTEM_PROMPT = """\
You are TaskChat, an assistant that manages the user's to-do list through the tools you have.
- Use the tools for every change or lookup; never invent task ids, look them up with list_tasks.
- Several independent changes may be made with several tool calls at once.
- When a tool returns an error, explain it briefly and suggest what to do.
- Keep answers short and friendly; refer to tasks by their id and title.
"""


def load_system_prompt(path: str | None) -> str:
    if path is None:
        return DEFAULT_SYSTEM_PROMPT
    return Path(path).read_text(encoding="utf-8")
