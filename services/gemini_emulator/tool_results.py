"""Turning tool results that just came back into the short sentence the model would say.

Tool outputs reach the model as strings. Our tools return JSON, but agent frameworks sometimes
stringify a dict with `str()` (Python repr), so both are accepted; anything else is treated as
opaque text and the sentence is built from the call's own arguments.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from typing import Any

from services.gemini_emulator.messages import Message, content_text


def trailing_tool_results(messages: Sequence[Message]) -> list[Message]:
    """The `tool` messages at the end of the conversation, in order (one per answered call)."""
    results: list[Message] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append(message)
    results.reverse()
    return results


def summarize_tool_results(messages: Sequence[Message]) -> str:
    """One sentence per trailing tool result, joined with spaces."""
    calls = _calls_by_id(messages)
    sentences = []
    for result in trailing_tool_results(messages):
        name, arguments = calls.get(str(result.get("tool_call_id", "")), ("", {}))
        name = name or str(result.get("name") or "")
        sentences.append(describe_result(name, arguments, content_text(result.get("content"))))
    return " ".join(sentences)


def describe_result(name: str, arguments: Mapping[str, Any], output: str) -> str:
    """The sentence for one tool result; pure so each tool's wording is unit-testable."""
    result = _parse(output)
    if isinstance(result, Mapping) and result.get("error"):
        return _sentence(f"Sorry, that failed: {_error_text(result['error'])}")
    if result is None and "error" in output.lower():
        # Agent frameworks report a crashed tool as plain text ("An error occurred ...").
        return _sentence(f"Sorry, that failed: {output.strip()}")
    if name == "create_task":
        task = _task(result)
        task_id = _task_id(task, arguments)
        title = task.get("title") or arguments.get("title")
        number = f" #{task_id}" if task_id is not None else ""
        quoted = f" '{title}'" if title else ""
        return f"Done: I added task{number}{quoted}."
    if name == "list_tasks":
        return _list_sentence(result, str(arguments.get("status") or "all"))
    if name in _SINGLE_VERBS:
        task_id = _task_id(_task(result), arguments)
        target = f"task #{task_id}" if task_id is not None else "the task"
        return _SINGLE_VERBS[name].format(target=target)
    if name in _BULK_VERBS:
        ids = _bulk_ids(result, arguments)
        verb = _BULK_VERBS[name]
        if not ids:
            return f"No tasks were {verb.lower()}."
        return f"{verb} tasks {', '.join(f'#{task_id}' for task_id in ids)}."
    return f"Done: {name or 'the tool'} finished."


_SINGLE_VERBS = {
    "complete_task": "Marked {target} as completed.",
    "delete_task": "Deleted {target}.",
    "update_task": "Updated {target}.",
}
_BULK_VERBS = {"bulk_complete_tasks": "Completed", "bulk_delete_tasks": "Deleted"}


def _calls_by_id(messages: Sequence[Message]) -> dict[str, tuple[str, dict[str, Any]]]:
    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    for message in messages:
        if message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, Mapping) else None
            if not isinstance(function, Mapping):
                continue
            arguments = _parse(str(function.get("arguments") or ""))
            calls[str(call.get("id", ""))] = (
                str(function.get("name") or ""),
                dict(arguments) if isinstance(arguments, Mapping) else {},
            )
    return calls


def _parse(output: str) -> Any:
    """JSON first, then a Python literal (a `str()`-ed dict); None when neither parses."""
    try:
        return json.loads(output)
    except ValueError:
        pass
    try:
        return ast.literal_eval(output)
    except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
        return None


def _task(result: Any) -> Mapping[str, Any]:
    """The task object inside a result, whether bare or wrapped as `{"task": {...}}`."""
    if isinstance(result, Mapping):
        inner = result.get("task")
        return inner if isinstance(inner, Mapping) else result
    return {}


def _task_id(task: Mapping[str, Any], arguments: Mapping[str, Any]) -> Any:
    for value in (task.get("id"), task.get("task_id"), arguments.get("task_id")):
        if value is not None:
            return value
    return None


def _list_sentence(result: Any, status: str) -> str:
    tasks = result.get("tasks") if isinstance(result, Mapping) else result
    items = [task for task in tasks if isinstance(task, Mapping)] if isinstance(tasks, list) else []
    qualifier = f"{status} " if status in ("pending", "completed") else ""
    if not items:
        return f"You have no {qualifier}tasks."
    noun = "task" if len(items) == 1 else "tasks"
    listed = ", ".join(f"#{task.get('id', '?')} {task.get('title', '')}".rstrip() for task in items)
    return f"You have {len(items)} {qualifier}{noun}: {listed}."


def _bulk_ids(result: Any, arguments: Mapping[str, Any]) -> list[Any]:
    """Ids the tool reports as affected, else the ids that were asked for."""
    candidates: list[Any] = []
    if isinstance(result, list):
        candidates = result
    elif isinstance(result, Mapping):
        for key in ("task_ids", "completed", "deleted", "ids", "tasks", "updated"):
            if isinstance(result.get(key), list):
                candidates = result[key]
                break
    ids = [item.get("id") if isinstance(item, Mapping) else item for item in candidates]
    ids = [task_id for task_id in ids if task_id is not None]
    if ids:
        return ids
    requested = arguments.get("task_ids")
    return list(requested) if isinstance(requested, list) else []


def _error_text(error: Any) -> str:
    if isinstance(error, Mapping) and error.get("message"):
        return str(error["message"])
    return str(error)


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."
