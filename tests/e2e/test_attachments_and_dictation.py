"""Image attachments (ChatKit's two-phase upload) and dictation, through the real processes."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chatkit.types import Attachment, TranscriptionResult
from pydantic import TypeAdapter

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import user_input
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl
from tests.images import tiny_png

pytestmark = pytest.mark.e2e

ATTACHMENT = TypeAdapter(Attachment)


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {"ATTACHMENT_MAX_BYTES": "20000", "TRANSCRIPTION_ENABLED": "true"}
    with running_system(backends, tmp_path_factory, "e2e-attachments", env) as running:
        yield running


class User:
    def __init__(self, system: System) -> None:
        self.token = system.token(f"att-{uuid.uuid4().hex[:8]}")
        self.chat = ChatKitClient(system.gateway_url, self.token)
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def create(self, name: str, mime_type: str, size: int) -> httpx.Response:
        return self.chat.request(
            {
                "type": "attachments.create",
                "params": {"name": name, "size": size, "mime_type": mime_type},
            }
        )


@pytest.fixture
def alice(system: System) -> Iterator[User]:
    user = User(system)
    yield user
    user.chat.close()


@pytest.fixture
def bob(system: System) -> Iterator[User]:
    user = User(system)
    yield user
    user.chat.close()


def test_image_round_trip(system: System, alice: User, bob: User) -> None:
    png = tiny_png()
    created = alice.create("dot.png", "image/png", len(png))
    assert created.status_code == 200, created.text
    attachment = ATTACHMENT.validate_python(created.json())
    assert attachment.type == "image" and attachment.upload_descriptor is not None
    upload_url = str(attachment.upload_descriptor.url)
    preview_url = str(attachment.preview_url)

    # Bob can neither upload into nor look at Alice's attachment.
    assert httpx.post(upload_url, content=png, headers=bob.headers).status_code == 404
    # Not uploaded yet: no preview.
    assert httpx.get(preview_url, headers=alice.headers).status_code == 404
    # Bytes that are not the announced type are refused.
    fake = httpx.post(upload_url, content=b"GIF89a" + b"\x00" * 20, headers=alice.headers)
    assert fake.status_code == 400 and "image/png" in fake.json()["detail"]

    uploaded = httpx.post(
        upload_url, files={"file": ("dot.png", png, "image/png")}, headers=alice.headers
    )
    assert uploaded.status_code == 200, uploaded.text
    preview = httpx.get(preview_url, headers=alice.headers)
    assert preview.status_code == 200
    assert preview.content == png
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert httpx.get(preview_url, headers=bob.headers).status_code == 404

    # Bob cannot send Alice's attachment in a message of his.
    stolen = user_input("look at this")
    stolen["attachments"] = [attachment.id]
    assert (
        bob.chat.request({"type": "threads.create", "params": {"input": stolen}}).status_code == 404
    )

    # The image reaches the model as an image part.
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        message = user_input("what is in this picture?")
        message["attachments"] = [attachment.id]
        turn = alice.chat.stream({"type": "threads.create", "params": {"input": message}})
        assert not turn.of_type("error"), turn.raw_events
        sent = emulator.agent_requests()[0]["request"]["messages"][-1]["content"]
    image_parts = [p for p in sent if p["type"] == "image_url"]
    expected = "data:image/png;base64," + base64.b64encode(png).decode()
    assert [p["image_url"]["url"] for p in image_parts] == [expected]
    stored_message = turn.done_items()[0]
    assert [a["id"] for a in stored_message["attachments"]] == [attachment.id]

    deleted = alice.chat.request(
        {"type": "attachments.delete", "params": {"attachment_id": attachment.id}}
    )
    assert deleted.status_code == 200
    assert httpx.get(preview_url, headers=alice.headers).status_code == 404


@pytest.mark.parametrize(
    ("name", "mime_type", "size", "status"),
    [
        ("notes.pdf", "application/pdf", 100, 400),
        ("huge.png", "image/png", 20001, 413),
        ("empty.png", "image/png", 0, 400),
    ],
)
def test_refused_attachments(
    alice: User, name: str, mime_type: str, size: int, status: int
) -> None:
    response = alice.create(name, mime_type, size)
    assert response.status_code == status
    assert name in response.json()["detail"]


def test_upload_larger_than_the_limit_is_413(alice: User) -> None:
    attachment = alice.create("dot.png", "image/png", 100).json()
    upload_url = attachment["upload_descriptor"]["url"]
    big = tiny_png() + b"\x00" * 30_000
    assert httpx.post(upload_url, content=big, headers=alice.headers).status_code == 413


def transcribe(user: User, mime_type: str, data: bytes) -> httpx.Response:
    return user.chat.request(
        {
            "type": "input.transcribe",
            "params": {"audio_base64": base64.b64encode(data).decode(), "mime_type": mime_type},
        }
    )


def test_dictation_through_gemini(system: System, alice: User) -> None:
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        response = transcribe(alice, "audio/ogg;codecs=opus", b"OggSfake-ogg")
        assert response.status_code == 200, response.text
        result = TranscriptionResult.model_validate(response.json())
        sent: Any = emulator.requests()[0]
    assert result.text == sent["response"]["text"].strip()
    parts = sent["request"]["messages"][0]["content"]
    audio = next(p for p in parts if p["type"] == "input_audio")["input_audio"]
    assert audio["format"] == "ogg"
    assert base64.b64decode(audio["data"]) == b"OggSfake-ogg"
    assert transcribe(alice, "audio/x-unknown", b"x").status_code == 415
