"""Request shaping, error parsing and retry delays for Gemini (pure functions)."""

from __future__ import annotations

from typing import Any, cast

from redis.asyncio import Redis

from services.agent.gemini.empty_answer import fallback_text
from services.agent.gemini.errors import gemini_error_detail
from services.agent.gemini.request import REJECTED_FIELDS, prepare_request, thinking_fields
from services.agent.gemini.retry import retry_delay_s
from services.agent.gemini.schema import GeminiToolSchemas
from services.agent.gemini.signatures import SignatureStore, call_key
from shared.settings import GeminiSettings


def test_gemini_array_error_bodies_are_read() -> None:
    body = [{"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}]
    assert gemini_error_detail(body) == ("RESOURCE_EXHAUSTED", "Quota exceeded")
    assert gemini_error_detail({"error": {"message": "m", "status": "S"}}) == ("S", "m")
    assert gemini_error_detail("nonsense") == (None, None)


def test_thinking_settings_take_the_shape_gemini_accepts() -> None:
    budget = GeminiSettings(api_key="k", thinking_budget=256, include_thoughts=True)
    assert thinking_fields(budget) == {
        "extra_body": {
            "extra_body": {
                "google": {
                    "thinking_config": {"thinking_budget": 256, "include_thoughts": True},
                    "thought_tag_marker": "thought",
                }
            }
        }
    }
    assert thinking_fields(GeminiSettings(api_key="k", reasoning_effort="low")) == {
        "reasoning_effort": "low"
    }
    assert thinking_fields(GeminiSettings(api_key="k")) == {}


def test_rejected_fields_are_the_ones_gemini_refuses() -> None:
    assert {"store", "metadata", "google"} == REJECTED_FIELDS


def test_retry_after_is_honoured_and_delays_are_bounded() -> None:
    for attempt in range(6):
        assert 0 <= retry_delay_s(attempt, None, 10) <= min(10, 0.5 * 2**attempt)
    assert retry_delay_s(0, "3", 10) >= 3
    assert retry_delay_s(0, "30", 5) == 5
    assert retry_delay_s(0, "Wed, 21 Oct 2015 07:28:00 GMT", 10) <= 0.5


async def test_a_side_call_keeps_the_thinking_it_chose() -> None:
    # A title asks for the lightest thinking; the configured budget must not be added to it
    # (Gemini refuses `reasoning_effort` together with a thinking config).
    settings = GeminiSettings(api_key="k", model="gemini-2.5-flash", thinking_budget=512)
    store = SignatureStore(cast(Redis, None))  # no scope: never used
    chosen = await prepare_request(
        {"model": "gemini-2.5-flash", "messages": [], "reasoning_effort": "none"},
        settings,
        store,
        None,
        GeminiToolSchemas(),
    )
    assert chosen["reasoning_effort"] == "none" and "extra_body" not in chosen
    configured = await prepare_request(
        {"model": "gemini-2.5-flash", "messages": []}, settings, store, None, GeminiToolSchemas()
    )
    assert configured["extra_body"] == {
        "extra_body": {"google": {"thinking_config": {"thinking_budget": 512}}}
    }


def test_the_fallback_for_an_unanswered_tool_result_quotes_the_results() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "add milk"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "call_1", "function": {"name": "create_task", "arguments": "{}"}},
                {"id": "call_2", "function": {"name": "list_tasks", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"task": {"id": 3}}'},
        {"role": "tool", "tool_call_id": "call_2", "content": "x" * 500},
    ]
    text = fallback_text(messages)
    assert text.startswith("The assistant ran its tools but gave no answer")
    assert 'create_task: {"task": {"id": 3}}; list_tasks: ' in text
    assert text.endswith("...") and len(text) < 400


def test_a_signature_is_filed_under_its_call_not_just_its_id() -> None:
    # A thread longer than the history window can see an id again, for another call.
    key = call_key("call_4162774", "create_task", '{"title": "milk"}')
    assert key == call_key("call_4162774", "create_task", '{"title":"milk"}')  # same JSON
    assert key != call_key("call_4162774", "create_task", '{"title":"eggs"}')
    assert key != call_key("call_4162774", "delete_task", '{"title":"milk"}')
    assert key.startswith("call_4162774:")
