"""Model configuration from the environment, each in a system started with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.chatkit_client.client import ChatKitClient
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def prompt_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("prompt") / "system.txt"
    path.write_text("You are a test assistant from a prompt file.")
    return path


@pytest.fixture(scope="module")
def custom_system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory, prompt_file: Path
) -> Iterator[System]:
    """A model name without "gemini" in it (the SDK then drops thought signatures; the emulator
    applies its Gemini 3 rules to it), a thinking level, sampling settings and a system prompt
    file."""
    with running_system(
        backends,
        tmp_path_factory,
        "e2e-config",
        {
            "GEMINI_MODEL": "tuned-task-model-001",
            "GEMINI_REASONING_EFFORT": "low",
            "GEMINI_TEMPERATURE": "0.3",
            "GEMINI_MAX_OUTPUT_TOKENS": "512",
            "SYSTEM_PROMPT_FILE": str(prompt_file),
        },
    ) as running:
        yield running


def chat(system: System) -> ChatKitClient:
    return ChatKitClient(system.gateway_url, system.token(f"cfg-{uuid.uuid4().hex[:8]}"))


def test_signatures_survive_a_model_name_without_gemini(custom_system: System) -> None:
    emulator = EmulatorControl(custom_system.emulator_url)
    client = chat(custom_system)
    try:
        emulator.reset()
        emulator.behave(require_signatures=True)
        turn = client.create_thread("add task rename-proof")
        assert not turn.of_type("error"), turn.raw_events
        exchanges = emulator.agent_requests()
        assert [e["response"]["status"] for e in exchanges] == [200, 200]
        assert exchanges[0]["request"]["model"] == "tuned-task-model-001"
    finally:
        emulator.reset()
        emulator.close()
        client.close()


def test_thinking_sampling_and_prompt_settings_are_sent(custom_system: System) -> None:
    emulator = EmulatorControl(custom_system.emulator_url)
    client = chat(custom_system)
    try:
        emulator.reset()
        assert not client.create_thread("hello settings").of_type("error")
        request = emulator.agent_requests()[0]["request"]
        assert request["reasoning_effort"] == "low"
        assert "extra_body" not in request
        assert request["temperature"] == 0.3
        assert request["max_tokens"] == 512
        assert request["messages"][0] == {
            "role": "system",
            "content": "You are a test assistant from a prompt file.",
        }
    finally:
        emulator.close()
        client.close()


@pytest.fixture(scope="module")
def one_round_system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    with running_system(
        backends,
        tmp_path_factory,
        "e2e-rounds",
        {"AGENT_MAX_TOOL_ROUNDS": "1", "GEMINI_REASONING_EFFORT": "low"},
    ) as running:
        yield running


def test_tool_rounds_are_bounded_with_a_clear_message(one_round_system: System) -> None:
    emulator = EmulatorControl(one_round_system.emulator_url)
    client = chat(one_round_system)
    try:
        emulator.reset()
        turn = client.create_thread("add task one round only")
        errors = turn.of_type("error")
        assert len(errors) == 1, turn.raw_events
        assert errors[0]["message"].startswith("I had to stop: this request needed more than 1 ")
        assert errors[0]["allow_retry"] is False
        assert emulator.agent_requests()[0]["request"]["reasoning_effort"] == "low"
    finally:
        emulator.close()
        client.close()


@pytest.fixture(scope="module")
def gemini_2_5_system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """The row that differs on Gemini 2.5: thinking is a token budget, not a level."""
    with running_system(
        backends,
        tmp_path_factory,
        "e2e-gemini-2-5",
        {
            "GEMINI_MODEL": "gemini-2.5-flash",
            "GEMINI_THINKING_BUDGET": "128",
            "GEMINI_INCLUDE_THOUGHTS": "true",
        },
    ) as running:
        yield running


def test_a_thinking_budget_is_sent_to_gemini_2_5(gemini_2_5_system: System) -> None:
    emulator = EmulatorControl(gemini_2_5_system.emulator_url)
    client = chat(gemini_2_5_system)
    try:
        emulator.reset()
        turn = client.create_thread("add task budgeted")
        assert not turn.of_type("error"), turn.raw_events
        exchanges = emulator.agent_requests()
        assert [e["response"]["status"] for e in exchanges] == [200, 200]
        request = exchanges[0]["request"]
        assert request["extra_body"] == {
            "google": {
                "thinking_config": {"thinking_budget": 128, "include_thoughts": True},
                "thought_tag_marker": "thought",
            }
        }
        assert "reasoning_effort" not in request
    finally:
        emulator.close()
        client.close()
