"""Dictation (`input.transcribe`): off by default, and through Gemini when switched on: only
the audio formats Gemini documents, a daily quota per user, usage recorded, and its larger body
limit on its own path (`/chatkit/transcribe`) only."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl

pytestmark = pytest.mark.e2e

WEBM = b"\x1aE\xdf\xa3" + b"fake-webm-audio"
OGG = b"OggS" + b"fake-ogg-audio"
MAX_BYTES = 4000
CHATKIT_MAX_BODY = 2048
DAILY_CLIPS = 2


@pytest.fixture
def dictation_off(system: System) -> System:
    """The shared system: dictation is off by default."""
    return system


@pytest.fixture(scope="module")
def dictation_on(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {
        "TRANSCRIPTION_ENABLED": "true",
        "TRANSCRIPTION_MAX_BYTES": str(MAX_BYTES),
        "TRANSCRIPTION_DAILY_QUOTA": str(DAILY_CLIPS),
        "CHATKIT_MAX_BODY_BYTES": str(CHATKIT_MAX_BODY),
    }
    with running_system(backends, tmp_path_factory, "e2e-dictation-on", env) as running:
        yield running


def transcribe(
    system: System, mime_type: str, data: bytes, user_id: str | None = None
) -> httpx.Response:
    user_id = user_id or f"dictation-{uuid.uuid4().hex[:8]}"
    chat = ChatKitClient(system.gateway_url, system.token(user_id))
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
        response = transcribe(dictation_on, "audio/ogg;codecs=opus", OGG)
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
    assert audio["input_audio"] == {"data": base64.b64encode(OGG).decode(), "format": "ogg"}


def test_refused_audio(dictation_on: System) -> None:
    too_long = post_clip(dictation_on, "audio/ogg", OGG + b"\x00" * MAX_BYTES)
    assert too_long.status_code == 413 and "limit" in too_long.json()["detail"]
    # Formats Gemini does not document (WebM and MP4 are what browsers record) are refused.
    for mime_type in ("audio/x-unknown", "audio/webm;codecs=opus", "audio/mp4"):
        unknown = transcribe(dictation_on, mime_type, WEBM)
        assert unknown.status_code == 415, mime_type
        assert "audio/wav" in unknown.json()["detail"] and "audio/flac" in unknown.json()["detail"]


def post_clip(
    system: System, mime_type: str, data: bytes, path: str = "/chatkit/transcribe"
) -> httpx.Response:
    params = {"audio_base64": base64.b64encode(data).decode(), "mime_type": mime_type}
    return httpx.post(
        f"{system.gateway_url}{path}",
        json={"type": "input.transcribe", "params": params},
        headers={"Authorization": f"Bearer {system.token(f'clip-{uuid.uuid4().hex[:8]}')}"},
    )


def test_the_larger_body_limit_is_on_the_dictation_path_only(dictation_on: System) -> None:
    clip = OGG + b"\x00" * (MAX_BYTES - len(OGG) - 10)  # 5,300 bytes as base64: above /chatkit's
    assert post_clip(dictation_on, "audio/ogg", clip, "/chatkit").status_code == 413
    assert post_clip(dictation_on, "audio/ogg", clip).status_code == 200
    signed_in = {"Authorization": f"Bearer {dictation_on.token('body-limits')}"}
    tasks = httpx.post(
        f"{dictation_on.gateway_url}/api/tasks",
        content=b"{" + b" " * (CHATKIT_MAX_BODY * 2) + b"}",
        headers={**signed_in, "content-type": "application/json"},
    )
    assert tasks.status_code == 413
    only_dictation = httpx.post(
        f"{dictation_on.gateway_url}/chatkit/transcribe",
        json={"type": "threads.list", "params": {}},
        headers=signed_in,
    )
    assert only_dictation.status_code == 400


def usage_rows(database_url: str, user_id: str) -> list[asyncpg.Record]:
    async def query() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(database_url)
        try:
            return await conn.fetch(
                "SELECT thread_id, requests, model FROM turn_usage WHERE user_id = $1", user_id
            )
        finally:
            await conn.close()

    return asyncio.run(query())


def test_clips_count_against_a_daily_quota_and_are_recorded(dictation_on: System) -> None:
    user_id = f"quota-{uuid.uuid4().hex[:8]}"
    for _ in range(DAILY_CLIPS):
        assert transcribe(dictation_on, "audio/ogg", OGG, user_id).status_code == 200
    refused = transcribe(dictation_on, "audio/ogg", OGG, user_id)
    assert refused.status_code == 429
    assert f"your {DAILY_CLIPS} dictated clips for today" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    rows = usage_rows(dictation_on.env["DATABASE_URL"], user_id)
    assert [(row["thread_id"], row["requests"]) for row in rows] == [("dictation", 1)] * DAILY_CLIPS


def test_model_failure_is_503_with_a_message(dictation_on: System) -> None:
    with EmulatorControl(dictation_on.emulator_url) as emulator:
        emulator.reset()
        # The client retries twice; three failures in a row reach the user.
        emulator.fail_next("503", count=3)
        response = transcribe(dictation_on, "audio/ogg", OGG)
        emulator.reset()
    assert response.status_code == 503
    assert "Dictation is not available" in response.json()["detail"]
