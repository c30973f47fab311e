"""Dictation (`input.transcribe`): off by default, and through Gemini when switched on."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import Backends
from tests.e2e.chatkit_client import ChatKitClient
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl

pytestmark = pytest.mark.e2e

WEBM = b"\x1aE\xdf\xa3" + b"fake-webm-audio"
MAX_BYTES = 1000


@pytest.fixture
def dictation_off(system: System) -> System:
    """The shared system: dictation is off by default."""
    return system


@pytest.fixture(scope="module")
def dictation_on(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {"TRANSCRIPTION_ENABLED": "true", "TRANSCRIPTION_MAX_BYTES": str(MAX_BYTES)}
    with running_system(backends, tmp_path_factory, "e2e-dictation-on", env) as running:
        yield running


def transcribe(system: System, mime_type: str, data: bytes) -> httpx.Response:
    chat = ChatKitClient(system.gateway_url, system.token(f"dictation-{uuid.uuid4().hex[:8]}"))
    try:
        params = {"audio_base64": base64.b64encode(data).decode(), "mime_type": mime_type}
        return chat.request({"type": "input.transcribe", "params": params})
    finally:
        chat.close()


def test_switched_off_by_default_and_says_how_to_switch_on(dictation_off: System) -> None:
    response = transcribe(dictation_off, "audio/webm;codecs=opus", WEBM)
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "switched off" in detail and "TRANSCRIPTION_ENABLED=true" in detail


def test_transcript_is_the_models_answer(dictation_on: System) -> None:
    with EmulatorControl(dictation_on.emulator_url) as emulator:
        emulator.reset()
        response = transcribe(dictation_on, "audio/ogg;codecs=opus", WEBM)
        assert response.status_code == 200, response.text
        exchange: Any = emulator.requests()[-1]
    assert response.json()["text"] == exchange["response"]["text"].strip()
    assert response.json()["text"]
    request = exchange["request"]
    assert request.get("stream") in (None, False)
    text, audio = request["messages"][0]["content"]
    assert text == {
        "type": "text",
        "text": "Transcribe this audio exactly. Reply with the transcript only.",
    }
    assert audio["type"] == "input_audio"
    assert audio["input_audio"] == {"data": base64.b64encode(WEBM).decode(), "format": "ogg"}


def test_refused_audio(dictation_on: System) -> None:
    too_long = transcribe(dictation_on, "audio/webm", WEBM + b"\x00" * MAX_BYTES)
    assert too_long.status_code == 413 and "limit" in too_long.json()["detail"]
    unknown = transcribe(dictation_on, "audio/x-unknown", WEBM)
    assert unknown.status_code == 400 and "audio/webm" in unknown.json()["detail"]


def test_model_failure_is_503_with_a_message(dictation_on: System) -> None:
    with EmulatorControl(dictation_on.emulator_url) as emulator:
        emulator.reset()
        # The client retries twice; three failures in a row reach the user.
        emulator.fail_next("503", count=3)
        response = transcribe(dictation_on, "audio/webm", WEBM)
        emulator.reset()
    assert response.status_code == 503
    assert "Dictation is not available" in response.json()["detail"]
