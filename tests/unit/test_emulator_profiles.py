"""The emulator's model families: Gemini 3 rules for Gemini 3 models, 2.5 rules for 2.5."""

from __future__ import annotations

from typing import Any

import pytest

from services.gemini_emulator.app import call_issue
from services.gemini_emulator.behaviour import Behaviour
from services.gemini_emulator.chunks import completion_body, new_meta
from services.gemini_emulator.profiles import profile_for
from services.gemini_emulator.rules import ToolCallPlan, ToolCallsReply
from services.gemini_emulator.signatures import check_signatures
from services.gemini_emulator.validation import validate_chat_request

KEY = b"k" * 32
REPLY = ToolCallsReply((ToolCallPlan("create_task", {"title": "milk"}),))


def first_call(model: str, opening: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """A conversation's first tool call: its messages so far, and the call as issued."""
    messages = [{"role": "user", "content": opening}, {"role": "user", "content": "add milk"}]
    issue = call_issue(profile_for(model), messages)
    body = completion_body(new_meta(model, 10), REPLY, Behaviour(), KEY, issue)
    call: dict[str, Any] = body["choices"][0]["message"]["tool_calls"][0]
    return messages, call


def replayed(messages: list[dict[str, Any]], call: dict[str, Any]) -> list[dict[str, Any]]:
    """`messages` with `call` answered, then a new user turn (the call is from an earlier turn)."""
    return [
        *messages,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "{}"},
        {"role": "user", "content": "and then?"},
    ]


def test_gemini_3_call_ids_repeat_across_conversations_and_2_5_ids_do_not() -> None:
    _, one = first_call("gemini-3.8-flash", "first conversation")
    _, other = first_call("gemini-3.8-flash", "second conversation")
    assert one["id"] == other["id"] == "call_4162774"
    _, one = first_call("gemini-2.5-flash", "first conversation")
    _, other = first_call("gemini-2.5-flash", "second conversation")
    assert one["id"] != other["id"]


def test_gemini_3_refuses_a_signature_from_another_conversation() -> None:
    mine, my_call = first_call("gemini-3.8-flash", "first conversation")
    _, their_call = first_call("gemini-3.8-flash", "second conversation")
    conversation = call_issue(profile_for("gemini-3.8-flash"), mine).conversation
    assert check_signatures(replayed(mine, my_call), KEY, conversation) is None
    # Same id, same name and arguments: only the conversation differs.
    crossed = {**my_call, "extra_content": their_call["extra_content"]}
    problem = check_signatures(replayed(mine, crossed), KEY, conversation)
    assert problem is not None and "conversation" in problem
    # An earlier turn's call may come back without its signature.
    unsigned = {k: v for k, v in my_call.items() if k != "extra_content"}
    assert check_signatures(replayed(mine, unsigned), KEY, conversation) is None


def body(model: str, **fields: Any) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], **fields}


def thinking(**config: Any) -> dict[str, Any]:
    return {"extra_body": {"google": {"thinking_config": config}}}


@pytest.mark.parametrize(
    ("model", "fields", "accepted"),
    [
        ("gemini-3.8-flash", {"reasoning_effort": "low"}, True),
        ("gemini-3.8-flash", {"reasoning_effort": "minimal"}, False),
        ("gemini-3-flash-preview", {"reasoning_effort": "minimal"}, True),
        ("gemini-3.8-flash", {"reasoning_effort": "none"}, False),
        ("gemini-3.8-flash", thinking(thinking_level="medium"), True),
        ("gemini-3.8-flash", thinking(thinking_budget=512), False),
        ("gemini-2.5-flash", thinking(thinking_budget=512), True),
        ("gemini-2.5-flash", thinking(thinking_level="low"), False),
        ("gemini-2.5-flash", {"reasoning_effort": "minimal"}, False),
        ("gemini-2.5-flash", {"reasoning_effort": "none"}, True),
        ("gemini-2.5-pro", {"reasoning_effort": "none"}, False),
        ("gemini-2.5-flash", {"reasoning_effort": "low", **thinking(thinking_budget=1)}, False),
    ],
)
def test_thinking_settings_are_checked_per_model_family(
    model: str, fields: dict[str, Any], accepted: bool
) -> None:
    problem = validate_chat_request(body(model, **fields), profile_for(model))
    assert (problem is None) is accepted, problem


@pytest.mark.parametrize("field", ["store", "metadata", "google", "verbosity", "user"])
def test_top_level_fields_gemini_does_not_know_are_refused(field: str) -> None:
    problem = validate_chat_request({**body("gemini-3.8-flash"), field: "x"})
    assert problem == f'Invalid JSON payload received. Unknown name "{field}": Cannot find field.'


def test_every_schema_problem_is_reported() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"when": {"type": "string", "format": "date"}},
                },
            },
        }
    ]
    problem = validate_chat_request(body("gemini-3.8-flash", tools=tools))
    assert problem is not None
    assert problem.splitlines() == [
        'Invalid JSON payload received. Unknown name "additionalProperties" at '
        "'tools[0].function_declarations[0].parameters': Cannot find field.",
        "* GenerateContentRequest.tools[0].function_declarations[0].parameters.properties[0]"
        ".value.format: only 'enum' and 'date-time' are supported for STRING type",
    ]
