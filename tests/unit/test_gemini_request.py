"""Request shaping, error parsing and retry delays for Gemini (pure functions)."""

from __future__ import annotations

from services.agent.gemini.errors import gemini_error_detail
from services.agent.gemini.request import REJECTED_FIELDS, thinking_fields
from services.agent.gemini.retry import retry_delay_s
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
                "google": {"thinking_config": {"thinking_budget": 256, "include_thoughts": True}}
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
