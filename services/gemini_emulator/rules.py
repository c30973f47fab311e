"""Choosing the reply to a chat request: a pure function of the request's messages and tools.

The rules are deliberately tiny and predictable (regexes over the last user message) so tests
can drive every agent path (single call, parallel calls, bulk calls, tool results, plain text)
just by what the "user" types. A tool call is only planned when the request offers that tool,
mirroring a real model that cannot call tools it was not given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.gemini_emulator.failures import strip_markers
from services.gemini_emulator.messages import (
    Message,
    content_text,
    has_image,
    last_message_with_role,
    tool_names,
)
from services.gemini_emulator.tool_results import summarize_tool_results


@dataclass(frozen=True, slots=True)
class ToolCallPlan:
    """A tool call the emulated model decided to make (ids and signatures come later)."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class TextReply:
    text: str


@dataclass(frozen=True, slots=True)
class ToolCallsReply:
    """One or more calls; several means a parallel group."""

    calls: tuple[ToolCallPlan, ...]


Reply = TextReply | ToolCallsReply


def choose_reply(messages: Sequence[Message], tools: Any = None) -> Reply:
    """The reply Gemini "would" give to `messages` with `tools` (the request's `tools` list)."""
    if messages and messages[-1].get("role") == "tool":
        return TextReply(summarize_tool_results(messages))
    available = tool_names(tools)
    user = last_message_with_role(messages, "user")
    content = user.get("content") if user is not None else None
    text = strip_markers(content_text(content))
    if not available and _asks_for_title(messages):
        return TextReply(make_title(text))
    calls = plan_tool_calls(text, available)
    if calls:
        return ToolCallsReply(calls)
    if text:
        return TextReply(f"You said: {text}")
    return TextReply("You sent an image." if has_image(content) else "You said nothing.")


def plan_tool_calls(text: str, available: frozenset[str]) -> tuple[ToolCallPlan, ...]:
    """The calls a task command asks for, or () when it is not a command or the tool is absent."""
    command = _normalize(text)
    for matcher in _MATCHERS:
        calls = matcher(command, available)
        if calls is not None:
            # The first matching rule decides; if its tools are missing we echo rather than
            # guess a different command.
            if all(call.name in available for call in calls):
                return calls
            return ()
    return ()


def make_title(text: str) -> str:
    """A thread title: the first five words of the user's text, each capitalized."""
    words = re.findall(r"[\w'-]+", text)[:5]
    # str.title() would turn "don't" into "Don'T"; only touch the first letter.
    return " ".join(word[:1].upper() + word[1:] for word in words) or "New Conversation"


def _asks_for_title(messages: Sequence[Message]) -> bool:
    return any(
        message.get("role") in ("system", "developer")
        and re.search(r"\btitle\b", content_text(message.get("content")), re.IGNORECASE)
        for message in messages
    )


def _normalize(text: str) -> str:
    text = text.strip().rstrip(".!?").strip()
    text = re.sub(r"^(?:please|pls|can you|could you)\s+", "", text, flags=re.IGNORECASE)
    return re.sub(r"[\s,]+please$", "", text, flags=re.IGNORECASE)


# A list of task ids: "3", "#3", "1, 2 and 3", "1 & 2".
_IDS = r"#?\d+(?:\s*(?:,\s*(?:and\s+)?|\s+and\s+|&\s*)#?\d+)*"
_RENAME = re.compile(
    r"^(?:rename|retitle|change)\s+(?:the\s+)?(?:task\s+)?#?(\d+)\s+(?:to|as|into)\s+(.+)$",
    re.IGNORECASE,
)
_COMPLETE = re.compile(
    rf"^(?:complete|finish|mark|check\s+off|tick\s+off)\s+(?:the\s+)?(?:tasks?\s+)?({_IDS})"
    r"(?:\s+(?:as\s+)?(?:done|complete|completed|finished))?$",
    re.IGNORECASE,
)
_DELETE = re.compile(rf"^(?:delete|remove)\s+(?:the\s+)?(?:tasks?\s+)?({_IDS})$", re.IGNORECASE)
_ADD = re.compile(
    r"^(?:add|create)\s+(?:an?\s+)?(?:new\s+)?(?:tasks?\b\s*(?::\s*|to\s+|called\s+|named\s+)?)?"
    r"(.+)$",
    re.IGNORECASE,
)
_REMIND = re.compile(r"^remind\s+me\s+to\s+(.+)$", re.IGNORECASE)
_LIST_VERB = re.compile(
    r"\b(?:list|show|display|see|view|what|which|tell\s+me|get)\b|^(?:my\s+)?tasks$", re.IGNORECASE
)
_TASKS_WORD = re.compile(r"\b(?:tasks?|todos?|to-dos?)\b", re.IGNORECASE)
_PENDING = re.compile(r"\b(?:pending|open|outstanding|incomplete|unfinished)\b", re.IGNORECASE)
_COMPLETED = re.compile(r"\b(?:completed|done|finished)\b", re.IGNORECASE)

_Matcher = Callable[[str, frozenset[str]], tuple[ToolCallPlan, ...] | None]


def _ids(raw: str) -> list[int]:
    return [int(number) for number in re.findall(r"\d+", raw)]


def _clean_title(raw: str) -> str:
    return raw.strip().strip("\"'\u201c\u201d\u2018\u2019").strip().rstrip(".!?,;:").strip()


# "call <tool> {json arguments}": any offered tool with exactly these arguments, so tests can
# drive tools no phrase covers (other MCP servers' tools, due dates, invalid arguments).
_CALL = re.compile(r"^call\s+([A-Za-z0-9_.-]+)\s*(\{.*\})?$", re.IGNORECASE | re.DOTALL)


def _match_call(text: str, available: frozenset[str]) -> tuple[ToolCallPlan, ...] | None:
    match = _CALL.match(text)
    if not match:
        return None
    try:
        arguments = json.loads(match.group(2) or "{}")
    except ValueError:
        return None
    if not isinstance(arguments, dict):
        return None
    return (ToolCallPlan(match.group(1), arguments),)


def _match_rename(text: str, available: frozenset[str]) -> tuple[ToolCallPlan, ...] | None:
    match = _RENAME.match(text)
    if not match:
        return None
    arguments = {"task_id": int(match.group(1)), "title": _clean_title(match.group(2))}
    return (ToolCallPlan("update_task", arguments),)


def _by_ids(
    pattern: re.Pattern[str], single: str, bulk: str
) -> Callable[[str, frozenset[str]], tuple[ToolCallPlan, ...] | None]:
    """A matcher for "<verb> task 3" (one call) and "<verb> tasks 1, 2" (one bulk call)."""

    def match_ids(text: str, available: frozenset[str]) -> tuple[ToolCallPlan, ...] | None:
        match = pattern.match(text)
        if not match:
            return None
        ids = _ids(match.group(1))
        if len(ids) == 1:
            return (ToolCallPlan(single, {"task_id": ids[0]}),)
        if bulk not in available and single in available:
            # Without the bulk tool a model would fan out into parallel single calls.
            return tuple(ToolCallPlan(single, {"task_id": task_id}) for task_id in ids)
        return (ToolCallPlan(bulk, {"task_ids": ids}),)

    return match_ids


def _match_add(text: str, available: frozenset[str]) -> tuple[ToolCallPlan, ...] | None:
    remind = _REMIND.match(text)
    if remind:
        # "remind me to X" is one task even if X contains "and".
        titles = [_clean_title(remind.group(1))]
    else:
        match = _ADD.match(text)
        if not match:
            return None
        parts = re.split(r"\s*,\s*(?:and\s+)?|\s+and\s+", match.group(1))
        titles = [title for title in map(_clean_title, parts) if title]
    if not titles or not all(titles):
        return None
    return tuple(ToolCallPlan("create_task", {"title": title}) for title in titles)


def _match_list(text: str, available: frozenset[str]) -> tuple[ToolCallPlan, ...] | None:
    if not (_LIST_VERB.search(text) and _TASKS_WORD.search(text)):
        return None
    if _PENDING.search(text):
        status = "pending"
    elif _COMPLETED.search(text):
        status = "completed"
    else:
        status = "all"
    return (ToolCallPlan("list_tasks", {"status": status}),)


# Order matters: anchored verb commands first, the looser "list" search last.
_MATCHERS: tuple[_Matcher, ...] = (
    _match_call,
    _match_rename,
    _by_ids(_COMPLETE, "complete_task", "bulk_complete_tasks"),
    _by_ids(_DELETE, "delete_task", "bulk_delete_tasks"),
    _match_add,
    _match_list,
)
