"""Rendering of ChatKit stream events for `taskchat chat` (shapes copied from a real stream)."""

from __future__ import annotations

from typing import Any

from services.cli.chat.render import ChatRenderer

THREAD = "thr_1"
MSG = "msg_1"
WF = "wf_1"


def delta(text: str, item_id: str = MSG) -> dict[str, Any]:
    return {
        "type": "thread.item.updated",
        "item_id": item_id,
        "update": {
            "type": "assistant_message.content_part.text_delta",
            "content_index": 0,
            "delta": text,
        },
    }


def assistant(kind: str, text: str = "", item_id: str = MSG) -> dict[str, Any]:
    content = [{"annotations": [], "text": text, "type": "output_text"}] if text else []
    return {
        "type": kind,
        "item": {
            "id": item_id,
            "thread_id": THREAD,
            "type": "assistant_message",
            "content": content,
        },
    }


def workflow(kind: str, *titles: str, status: str = "loading") -> dict[str, Any]:
    tasks = [{"type": "custom", "title": t, "status_indicator": status} for t in titles]
    return {
        "type": kind,
        "item": {
            "id": WF,
            "thread_id": THREAD,
            "type": "workflow",
            "workflow": {"type": "custom", "tasks": tasks, "expanded": False},
        },
    }


def render_all(events: list[dict[str, Any]]) -> str:
    renderer = ChatRenderer()
    return "".join(renderer.render(event) for event in events) + renderer.finish()


def test_thread_created_prints_and_remembers_the_id() -> None:
    renderer = ChatRenderer()
    text = renderer.render({"type": "thread.created", "thread": {"id": THREAD, "items": {}}})
    assert text == f"(thread {THREAD})\n"
    assert renderer.thread_id == THREAD


def test_streamed_text_is_printed_once_as_it_arrives() -> None:
    renderer = ChatRenderer()
    assert renderer.render(assistant("thread.item.added")) == ""
    assert renderer.render(delta("Done: ")) == "assistant> Done: "
    assert renderer.render(delta("added.")) == "added."
    # The final item repeats the whole text; only the line break is new.
    assert renderer.render(assistant("thread.item.done", "Done: added.")) == "\n"
    assert renderer.finish() == ""


def test_unstreamed_message_is_printed_from_the_done_item() -> None:
    assert render_all([assistant("thread.item.done", "Hello!")]) == "assistant> Hello!\n"


def test_workflow_task_titles_print_once_despite_updates() -> None:
    update = {
        "type": "thread.item.updated",
        "item_id": WF,
        "update": {
            "type": "workflow.task.updated",
            "task_index": 0,
            "task": {"type": "custom", "title": "Creating task 'buy milk'", "status": "complete"},
        },
    }
    out = render_all(
        [
            workflow("thread.item.added", "Creating task 'buy milk'"),
            update,
            workflow("thread.item.done", "Creating task 'buy milk'", status="complete"),
        ]
    )
    assert out == "· Creating task 'buy milk'\n"


def test_added_workflow_task_is_shown() -> None:
    added = {
        "type": "thread.item.updated",
        "item_id": WF,
        "update": {"type": "workflow.task.added", "task_index": 1, "task": {"title": "Listing"}},
    }
    assert (
        render_all([workflow("thread.item.added", "Creating"), added]) == "· Creating\n· Listing\n"
    )


def test_tool_activity_during_streamed_text_starts_on_a_new_line() -> None:
    out = render_all([delta("Let me check"), workflow("thread.item.added", "Listing tasks")])
    assert out == "assistant> Let me check\n· Listing tasks\n"


def test_error_event_shows_message_and_retry_hint() -> None:
    out = render_all([{"type": "error", "message": "The model is busy.", "allow_retry": True}])
    assert out == "! error: The model is busy. (you can send your message again)\n"
    assert render_all([{"type": "error"}]) == "! error: something went wrong\n"


def test_bookkeeping_events_render_nothing() -> None:
    events: list[dict[str, Any]] = [
        {"type": "stream_options", "stream_options": {"allow_cancel": True}},
        {"type": "thread.updated", "thread": {"id": THREAD}},
        {"type": "thread.item.done", "item": {"id": "u1", "type": "user_message", "content": []}},
        {"type": "something.new"},
    ]
    assert render_all(events) == ""


def test_a_second_message_gets_its_own_prefix() -> None:
    out = render_all([delta("One.", "m1"), delta("Two.", "m2")])
    assert out == "assistant> One.\nassistant> Two.\n"


def test_a_thought_streamed_word_by_word_prints_once_whole_when_done() -> None:
    def thought_update(kind: str, content: str) -> dict[str, Any]:
        task = {"type": "thought", "content": content}
        return {
            "type": "thread.item.updated",
            "item_id": WF,
            "update": {"type": kind, "task_index": 0, "task": task},
        }

    reasoning = {"id": WF, "thread_id": THREAD, "type": "workflow"}
    out = render_all(
        [
            {
                "type": "thread.item.added",
                "item": {**reasoning, "workflow": {"type": "reasoning", "tasks": []}},
            },
            thought_update("workflow.task.added", "Checking"),
            thought_update("workflow.task.updated", "Checking the list"),
            {
                "type": "thread.item.done",
                "item": {
                    **reasoning,
                    "workflow": {
                        "type": "reasoning",
                        "tasks": [{"type": "thought", "content": "Checking the list"}],
                        "expanded": False,
                    },
                },
            },
            assistant("thread.item.done", "Done."),
        ]
    )
    assert out == "· thought: Checking the list\nassistant> Done.\n"


def test_a_tools_progress_and_its_workflow_task_print_one_line() -> None:
    """The worker sends a progress update, then the workflow task with the same title."""
    renderer = ChatRenderer()
    progress = {"type": "progress_update", "icon": "check-circle", "text": "Creating task 'a'"}
    shown = renderer.render(progress) + renderer.render(
        workflow("thread.item.added", "Creating task 'a'")
    )
    assert shown.count("Creating task 'a'") == 1
    again = renderer.render({**progress, "text": "Creating task 'b'"})
    again += renderer.render(workflow("thread.item.done", "Creating task 'a'", "Creating task 'b'"))
    assert again.count("Creating task 'b'") == 1
