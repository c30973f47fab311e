"""Pure tests of the emulator's reply rules, tool-result sentences and chunk shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.gemini_emulator.behaviour import Behaviour
from services.gemini_emulator.chunks import (
    completion_body,
    cut_chunks,
    new_meta,
    split_tokens,
    stream_chunks,
)
from services.gemini_emulator.config import ConfigError, EmulatorConfig
from services.gemini_emulator.failures import (
    FailureMode,
    UnknownFailureMode,
    requested_failure,
    strip_markers,
)
from services.gemini_emulator.rules import (
    TextReply,
    ToolCallPlan,
    ToolCallsReply,
    choose_reply,
    make_title,
    plan_tool_calls,
)
from services.gemini_emulator.tool_results import describe_result
from services.gemini_emulator.validation import validate_chat_request

ALL_TOOLS: list[dict[str, Any]] = [
    {"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}
    for name in (
        "create_task",
        "list_tasks",
        "complete_task",
        "delete_task",
        "update_task",
        "bulk_complete_tasks",
        "bulk_delete_tasks",
    )
]


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "You manage tasks."}, {"role": "user", "content": text}]


def calls(text: str, tools: list[dict[str, Any]] | None = None) -> list[tuple[str, Any]]:
    reply = choose_reply(user(text), ALL_TOOLS if tools is None else tools)
    assert isinstance(reply, ToolCallsReply), reply
    return [(call.name, call.arguments) for call in reply.calls]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("add task buy milk", [("create_task", {"title": "buy milk"})]),
        ("Add buy milk", [("create_task", {"title": "buy milk"})]),
        ("create task Call Mom", [("create_task", {"title": "Call Mom"})]),
        ("please add a task to water plants.", [("create_task", {"title": "water plants"})]),
        ("remind me to pay rent and bills", [("create_task", {"title": "pay rent and bills"})]),
        (
            "add buy milk and walk dog",
            [("create_task", {"title": "buy milk"}), ("create_task", {"title": "walk dog"})],
        ),
        (
            "add tasks a, b and c",
            [
                ("create_task", {"title": "a"}),
                ("create_task", {"title": "b"}),
                ("create_task", {"title": "c"}),
            ],
        ),
        ("list my tasks", [("list_tasks", {"status": "all"})]),
        ("Show tasks", [("list_tasks", {"status": "all"})]),
        ("what are my tasks?", [("list_tasks", {"status": "all"})]),
        ("show my pending tasks", [("list_tasks", {"status": "pending"})]),
        ("list open tasks", [("list_tasks", {"status": "pending"})]),
        ("show completed tasks", [("list_tasks", {"status": "completed"})]),
        ("what tasks are done", [("list_tasks", {"status": "completed"})]),
        ("complete task 3", [("complete_task", {"task_id": 3})]),
        ("finish task #3", [("complete_task", {"task_id": 3})]),
        ("mark 3 done", [("complete_task", {"task_id": 3})]),
        ("mark task 3 as completed", [("complete_task", {"task_id": 3})]),
        ("complete tasks 1, 2 and 3", [("bulk_complete_tasks", {"task_ids": [1, 2, 3]})]),
        ("delete task 3", [("delete_task", {"task_id": 3})]),
        ("remove task 4", [("delete_task", {"task_id": 4})]),
        ("delete tasks 1 and 2", [("bulk_delete_tasks", {"task_ids": [1, 2]})]),
        (
            "rename task 3 to buy oat milk",
            [("update_task", {"task_id": 3, "title": "buy oat milk"})],
        ),
    ],
)
def test_commands_become_tool_calls(text: str, expected: list[tuple[str, Any]]) -> None:
    assert calls(text) == expected


def test_unknown_text_is_echoed() -> None:
    assert choose_reply(user("hello there"), ALL_TOOLS) == TextReply("You said: hello there")


def test_command_without_its_tool_is_echoed() -> None:
    only_list = [tool for tool in ALL_TOOLS if tool["function"]["name"] == "list_tasks"]
    assert choose_reply(user("add task buy milk"), only_list) == TextReply(
        "You said: add task buy milk"
    )
    assert choose_reply(user("add task buy milk"), None) == TextReply("You said: add task buy milk")


def test_bulk_without_bulk_tool_fans_out_into_parallel_single_calls() -> None:
    singles = [t for t in ALL_TOOLS if not t["function"]["name"].startswith("bulk_")]
    assert calls("complete tasks 1 and 2", singles) == [
        ("complete_task", {"task_id": 1}),
        ("complete_task", {"task_id": 2}),
    ]


def test_content_parts_and_failure_markers() -> None:
    messages = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "add task buy milk [[fail:cut]]"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
            ],
        }
    ]
    reply = choose_reply(messages, ALL_TOOLS)
    assert reply == ToolCallsReply((ToolCallPlan("create_task", {"title": "buy milk"}),))
    image_only = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]
    assert choose_reply(image_only) == TextReply("You sent an image.")


def test_title_request_without_tools() -> None:
    messages = [
        {"role": "system", "content": "Write a short title for this conversation."},
        {"role": "user", "content": "please help me plan my week's groceries and chores"},
    ]
    assert choose_reply(messages) == TextReply("Please Help Me Plan My")
    assert make_title("don't forget") == "Don't Forget"
    assert make_title("") == "New Conversation"


def tool_turn(
    calls_and_results: list[tuple[str, dict[str, Any], str]],
) -> list[dict[str, Any]]:
    tool_calls = [
        {
            "id": f"call_{position}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        for position, (name, arguments, _) in enumerate(calls_and_results)
    ]
    results = [
        {"role": "tool", "tool_call_id": f"call_{position}", "content": output}
        for position, (_, _, output) in enumerate(calls_and_results)
    ]
    return [
        {"role": "user", "content": "do it"},
        {"role": "assistant", "content": None, "tool_calls": tool_calls},
        *results,
    ]


def test_tool_result_follow_up_mentions_each_result() -> None:
    messages = tool_turn(
        [
            ("create_task", {"title": "buy milk"}, '{"id": 12, "title": "buy milk"}'),
            ("create_task", {"title": "walk dog"}, '{"task": {"id": 13, "title": "walk dog"}}'),
        ]
    )
    assert choose_reply(messages, ALL_TOOLS) == TextReply(
        "Done: I added task #12 'buy milk'. Done: I added task #13 'walk dog'."
    )


@pytest.mark.parametrize(
    ("name", "arguments", "output", "sentence"),
    [
        ("create_task", {"title": "x"}, "not json", "Done: I added task 'x'."),
        (
            "list_tasks",
            {"status": "all"},
            '{"tasks": [{"id": 1, "title": "buy milk"}, {"id": 2, "title": "walk dog"}]}',
            "You have 2 tasks: #1 buy milk, #2 walk dog.",
        ),
        ("list_tasks", {"status": "all"}, "[]", "You have no tasks."),
        ("list_tasks", {"status": "pending"}, '{"tasks": []}', "You have no pending tasks."),
        (
            "list_tasks",
            {},
            "[{'id': 5, 'title': 'python repr'}]",
            "You have 1 task: #5 python repr.",
        ),
        ("complete_task", {"task_id": 3}, '{"ok": true}', "Marked task #3 as completed."),
        ("delete_task", {"task_id": 3}, "", "Deleted task #3."),
        ("update_task", {"task_id": 3, "title": "y"}, '{"id": 3}', "Updated task #3."),
        ("bulk_complete_tasks", {"task_ids": [1, 2]}, '{"ok": true}', "Completed tasks #1, #2."),
        ("bulk_delete_tasks", {"task_ids": [1, 2]}, '{"deleted": [2]}', "Deleted tasks #2."),
        (
            "delete_task",
            {"task_id": 9},
            '{"error": "task 9 not found"}',
            "Sorry, that failed: task 9 not found.",
        ),
        ("mystery", {}, "{}", "Done: mystery finished."),
        (
            "create_task",
            {},
            "An error occurred while running the tool. Please try again.",
            "Sorry, that failed: An error occurred while running the tool. Please try again.",
        ),
        ("create_task", {}, '{"id": 4}', "Done: I added task #4."),
    ],
)
def test_describe_result(name: str, arguments: dict[str, Any], output: str, sentence: str) -> None:
    assert describe_result(name, arguments, output) == sentence


def test_stream_chunks_follow_gemini_shape() -> None:
    meta = new_meta("gemini-2.5-flash", 40)
    text_chunks = stream_chunks(meta, TextReply("You said: hi there"), Behaviour(), b"key")
    assert "".join(c["choices"][0]["delta"]["content"] for c in text_chunks) == "You said: hi there"
    assert [c["usage"]["completion_tokens"] for c in text_chunks] == [1, 2, 3, 4]
    assert [c["choices"][0]["finish_reason"] for c in text_chunks] == [None, None, None, "stop"]
    assert all(c["usage"]["prompt_tokens"] == 10 for c in text_chunks)

    plans = (
        ToolCallPlan("create_task", {"title": "a"}),
        ToolCallPlan("create_task", {"title": "b"}),
    )
    tool_chunks = stream_chunks(meta, ToolCallsReply(plans), Behaviour(), b"key")
    first, second = (c["choices"][0]["delta"]["tool_calls"] for c in tool_chunks[:2])
    assert len(first) == len(second) == 1
    assert "index" not in first[0] and "index" not in second[0]
    assert first[0]["extra_content"]["google"]["thought_signature"]
    assert "extra_content" not in second[0]
    assert tool_chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant"},
        "finish_reason": "stop",
    }
    assert {c["id"] for c in tool_chunks} == {meta.id}

    body = completion_body(meta, ToolCallsReply(plans), Behaviour(), b"key")
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert all("index" not in call for call in body["choices"][0]["message"]["tool_calls"])


def test_split_tokens_and_cut() -> None:
    assert split_tokens("a  b c ") == ["a  ", "b ", "c "]
    assert split_tokens("") == []
    meta = new_meta("m", 0)
    cut = cut_chunks(meta, TextReply("one two three four"))
    assert [c["choices"][0]["delta"]["content"] for c in cut] == ["one ", "two "]
    assert all(c["choices"][0]["finish_reason"] is None for c in cut)


def test_failure_requests() -> None:
    assert requested_failure(" 429 ", "[[fail:cut]]") is FailureMode.RATE_LIMITED
    assert requested_failure(None, "hi [[FAIL:Hang]]") is FailureMode.HANG
    assert requested_failure(None, "hi") is None
    with pytest.raises(UnknownFailureMode):
        requested_failure("teapot", None)
    assert strip_markers("add x [[fail:500]] now") == "add x now"
    assert FailureMode.UNAVAILABLE.http_status == 503
    assert FailureMode.CUT.http_status is None


def test_validation() -> None:
    ok = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
    assert validate_chat_request(ok) is None
    for field in ("store", "metadata", "google"):
        assert f'"{field}"' in str(validate_chat_request({**ok, field: {}}))
    assert validate_chat_request({"model": "m"}) is not None
    assert validate_chat_request({**ok, "messages": []}) is not None
    assert validate_chat_request([ok]) is not None


def test_config_from_env() -> None:
    assert EmulatorConfig.from_env({}) == EmulatorConfig()
    config = EmulatorConfig.from_env(
        {
            "EMULATOR_HOST": "0.0.0.0",
            "EMULATOR_PORT": "9999",
            "EMULATOR_FIRST_TOKEN_DELAY_MS": "250",
            "EMULATOR_TOKENS_PER_S": "20.5",
            "EMULATOR_RETRY_AFTER_S": "3",
        }
    )
    assert config == EmulatorConfig("0.0.0.0", 9999, 250, 20.5, 3)
    assert config.base_url == "http://0.0.0.0:9999/v1beta/openai/"
    with pytest.raises(ConfigError):
        EmulatorConfig.from_env({"EMULATOR_PORT": "eighty"})
    with pytest.raises(ConfigError):
        EmulatorConfig.from_env({"EMULATOR_TOKENS_PER_S": "-1"})
    assert EmulatorConfig.from_env({"EMULATOR_TOKENS_PER_CHUNK": "4"}).tokens_per_chunk == 4
    with pytest.raises(ConfigError):
        EmulatorConfig.from_env({"EMULATOR_TOKENS_PER_CHUNK": "0"})


def test_call_rule_calls_any_offered_tool_with_the_given_arguments() -> None:
    offered = frozenset({"create_task", "mcp_weather__forecast"})
    assert plan_tool_calls('call mcp_weather__forecast {"city": "Oslo"}', offered) == (
        ToolCallPlan("mcp_weather__forecast", {"city": "Oslo"}),
    )
    assert plan_tool_calls('call create_task {"title": "x", "priority": "high"}', offered) == (
        ToolCallPlan("create_task", {"title": "x", "priority": "high"}),
    )
    assert plan_tool_calls("call create_task", offered) == (ToolCallPlan("create_task", {}),)
    assert plan_tool_calls('call delete_task {"task_id": 1}', offered) == ()
    assert plan_tool_calls("call create_task [1]", offered) == ()
