"""Turn ChatKit stream events (decoded JSON dicts) into terminal text. No I/O here.

`ChatRenderer.render(event)` returns the text to write (often ""), remembering just enough to
avoid printing things twice: assistant text arrives as deltas and again in `thread.item.done`,
and workflow tasks are re-sent whole on every update (a thought summary, streamed a few words at
a time, is shown once, whole, when its workflow is done).
"""

from __future__ import annotations

from typing import Any

Event = dict[str, Any]

TOOL_PREFIX = "· "
ASSISTANT_PREFIX = "assistant> "
THOUGHT_PREFIX = "thought: "


class ChatRenderer:
    def __init__(self) -> None:
        self.thread_id: str | None = None
        # Assistant message ids whose text was (at least partly) printed from deltas.
        self._streamed: set[str] = set()
        # (item id, task index, title) already shown, so an updated task prints once per title.
        self._shown_tasks: set[tuple[str, int, str]] = set()
        # True while the cursor sits after streamed assistant text (no newline written yet).
        self._mid_line = False
        # The progress update just shown: the worker sends one before each tool's workflow task,
        # with the same text, so the task that follows it is not printed a second time.
        self._progress: str | None = None

    def render(self, event: Event) -> str:
        kind = event.get("type")
        if kind == "thread.created":
            return self._thread_created(event)
        if kind in ("thread.item.added", "thread.item.done"):
            return self._item(event.get("item") or {}, done=kind == "thread.item.done")
        if kind == "thread.item.updated":
            return self._item_updated(str(event.get("item_id", "")), event.get("update") or {})
        if kind == "error":
            return self._error(event)
        if kind == "notice":
            return self._line(f"[{event.get('level', 'info')}] {event.get('message', '')}")
        if kind == "progress_update":
            self._progress = str(event.get("text", ""))
            return self._line(f"{TOOL_PREFIX}{self._progress}")
        # thread.updated, stream_options, item removal/replacement, client effects: nothing to say.
        return ""

    def finish(self) -> str:
        """Text to write when a response stream ends (closes a dangling assistant line)."""
        return self._break()

    def _thread_created(self, event: Event) -> str:
        thread = event.get("thread") or {}
        self.thread_id = thread.get("id")
        return self._line(f"(thread {self.thread_id})")

    def _item(self, item: Event, *, done: bool) -> str:
        item_type = item.get("type")
        item_id = str(item.get("id", ""))
        if item_type == "assistant_message":
            if not done:
                return ""
            if item_id in self._streamed:
                return self._break()
            text = "".join(part.get("text", "") for part in item.get("content") or [])
            return self._line(ASSISTANT_PREFIX + text) if text else ""
        if item_type == "workflow":
            tasks = (item.get("workflow") or {}).get("tasks") or []
            return "".join(
                self._task(item_id, index, task)
                for index, task in enumerate(tasks)
                if done or task.get("type") != "thought"
            )
        if item_type == "task":
            return self._task(item_id, 0, item.get("task") or {})
        return ""

    def _item_updated(self, item_id: str, update: Event) -> str:
        update_type = update.get("type")
        if update_type == "assistant_message.content_part.text_delta":
            delta = str(update.get("delta", ""))
            if not delta:
                return ""
            prefix = "" if item_id in self._streamed else self._break() + ASSISTANT_PREFIX
            self._streamed.add(item_id)
            self._mid_line = True
            return prefix + delta
        if update_type in ("workflow.task.added", "workflow.task.updated"):
            task = update.get("task") or {}
            if task.get("type") == "thought":
                return ""  # streamed a few words at a time: shown whole when its workflow is done
            return self._task(item_id, int(update.get("task_index", 0)), task)
        return ""

    def _task(self, item_id: str, index: int, task: Event) -> str:
        title = task.get("title") or task.get("content")
        if not title:
            return ""
        if task.get("type") == "thought":
            title = f"{THOUGHT_PREFIX}{title}"
        key = (item_id, index, str(title))
        if key in self._shown_tasks:
            return ""
        self._shown_tasks.add(key)
        if title == self._progress:
            self._progress = None
            return ""
        return self._line(f"{TOOL_PREFIX}{title}")

    def _error(self, event: Event) -> str:
        message = event.get("message") or "something went wrong"
        hint = " (you can send your message again)" if event.get("allow_retry") else ""
        return self._line(f"! error: {message}{hint}")

    def _line(self, text: str) -> str:
        """A full line, first ending any assistant text still being streamed."""
        return self._break() + text + "\n"

    def _break(self) -> str:
        if self._mid_line:
            self._mid_line = False
            return "\n"
        return ""
