"""What one message may make a worker do with images, through the real processes (issue 17.1,
issue 14.6): references per message, inline bytes per model request (history included), images
per user, and the image types that reach the model.

The images are 6 MiB: one of them fits, base64-encoded, under the emulator's 10 MB request body
limit (Litestar's default), two do not.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import user_input
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system
from tests.e2e.emulator_control import EmulatorControl
from tests.images import padded_png, tiny_gif, tiny_png

pytestmark = pytest.mark.e2e

LARGE = 6 * 1024 * 1024
PER_MESSAGE = 30
INLINE_BUDGET = 9_000_000  # one LARGE image as base64 (8.4 MB), not two
IMAGES_PER_USER = 4
BYTES_PER_USER = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {
        "ATTACHMENT_MAX_BYTES": str(LARGE),
        "ATTACHMENT_MAX_PER_MESSAGE": str(PER_MESSAGE),
        "MODEL_MAX_INLINE_BYTES": str(INLINE_BUDGET),
        "ATTACHMENT_MAX_PER_USER": str(IMAGES_PER_USER),
        "ATTACHMENT_MAX_BYTES_PER_USER": str(BYTES_PER_USER),
    }
    with running_system(backends, tmp_path_factory, "e2e-attachment-limits", env) as running:
        yield running


class User:
    def __init__(self, system: System) -> None:
        token = system.token(f"lim-{uuid.uuid4().hex[:8]}")
        self.chat = ChatKitClient(system.gateway_url, token)
        self.headers = {"Authorization": f"Bearer {token}"}

    def create(self, mime_type: str, size: int) -> httpx.Response:
        params = {"name": "picture", "size": size, "mime_type": mime_type}
        return self.chat.request({"type": "attachments.create", "params": params})

    def attach(self, data: bytes, mime_type: str = "image/png") -> dict[str, Any]:
        created = self.create(mime_type, len(data))
        assert created.status_code == 200, created.text
        attachment: dict[str, Any] = created.json()
        uploaded = httpx.post(
            attachment["upload_descriptor"]["url"],
            files={"file": ("picture", data, mime_type)},
            headers=self.headers,
            timeout=60,
        )
        assert uploaded.status_code == 200, uploaded.text
        return attachment

    def message(self, text: str, attachment_ids: list[str]) -> dict[str, Any]:
        message = user_input(text)
        message["attachments"] = attachment_ids
        return message


@pytest.fixture
def alice(system: System) -> Iterator[User]:
    user = User(system)
    yield user
    user.chat.close()


def memory_kib(pid: int) -> dict[str, int]:
    """The process's resident set now (VmRSS) and at its peak (VmHWM), in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


def image_parts(request: dict[str, Any]) -> list[str]:
    return [
        part["image_url"]["url"]
        for message in request["messages"]
        if isinstance(message.get("content"), list)
        for part in message["content"]
        if part.get("type") == "image_url"
    ]


def test_one_image_listed_thirty_times_is_read_once(system: System, alice: User) -> None:
    image = padded_png(LARGE)
    attachment = alice.attach(image)
    worker = system.service("worker-1").process.pid
    before = memory_kib(worker)
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        message = alice.message("what is this?", [attachment["id"]] * PER_MESSAGE)
        turn = alice.chat.stream({"type": "threads.create", "params": {"input": message}})
        assert turn.status_code == 200 and not turn.of_type("error"), turn.raw_events
        sent = emulator.agent_requests()[0]["request"]
    after = memory_kib(worker)
    print(f"worker memory before {before} after {after} (KiB)")
    assert image_parts(sent) == ["data:image/png;base64," + base64.b64encode(image).decode()]
    assert [a["id"] for a in turn.done_items()[0]["attachments"]] == [attachment["id"]]
    # Today's code read and encoded the image 30 times (about 30 x 8 MB); once is ~50 MB at most.
    assert after["VmHWM"] - before["VmHWM"] < 200 * 1024


def test_more_references_than_the_limit_are_refused(alice: User) -> None:
    attachment = alice.attach(tiny_png())
    message = alice.message("look", [attachment["id"]] * (PER_MESSAGE + 1))
    refused = alice.chat.request({"type": "threads.create", "params": {"input": message}})
    assert refused.status_code == 400
    assert f"limit is {PER_MESSAGE}" in refused.json()["detail"]


def test_a_message_whose_images_do_not_fit_one_request_is_refused(alice: User) -> None:
    first, second = alice.attach(padded_png(LARGE)), alice.attach(padded_png(LARGE))
    message = alice.message("compare", [first["id"], second["id"]])
    refused = alice.chat.request({"type": "threads.create", "params": {"input": message}})
    assert refused.status_code == 413
    assert f"limit is {INLINE_BUDGET:,}" in refused.json()["detail"]


def test_older_images_in_the_history_become_a_note(system: System, alice: User) -> None:
    older, newer = padded_png(LARGE), padded_png(LARGE)
    first = alice.attach(older)
    turn = alice.chat.stream(
        {"type": "threads.create", "params": {"input": alice.message("one", [first["id"]])}}
    )
    assert not turn.of_type("error"), turn.raw_events
    second = alice.attach(newer)
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        follow_up = alice.chat.stream(
            {
                "type": "threads.add_user_message",
                "params": {
                    "thread_id": turn.thread_id,
                    "input": alice.message("and this one?", [second["id"]]),
                },
            }
        )
        assert not follow_up.of_type("error"), follow_up.raw_events
        sent = emulator.agent_requests()[0]["request"]
    assert image_parts(sent) == ["data:image/png;base64," + base64.b64encode(newer).decode()]
    assert "older images are left out" in str(sent["messages"])


def test_images_per_user_are_capped(alice: User) -> None:
    for _ in range(IMAGES_PER_USER):
        assert alice.create("image/png", 100).status_code == 200
    refused = alice.create("image/png", 100)
    assert refused.status_code == 413
    assert f"limit is {IMAGES_PER_USER}" in refused.json()["detail"]


def test_bytes_per_user_are_capped(alice: User) -> None:
    for _ in range(BYTES_PER_USER // LARGE):
        assert alice.create("image/png", LARGE).status_code == 200
    refused = alice.create("image/png", LARGE)
    assert refused.status_code == 413
    assert f"limit of {BYTES_PER_USER:,}" in refused.json()["detail"]


def test_a_gif_reaches_the_model_as_a_png(system: System, alice: User) -> None:
    gif = tiny_gif()
    attachment = alice.attach(gif, "image/gif")
    preview = httpx.get(attachment["preview_url"], headers=alice.headers)
    assert preview.status_code == 200
    assert preview.headers["content-type"] == "image/png"
    assert preview.content.startswith(b"\x89PNG\r\n\x1a\n")
    with EmulatorControl(system.emulator_url) as emulator:
        emulator.reset()
        message = alice.message("what is this?", [attachment["id"]])
        turn = alice.chat.stream({"type": "threads.create", "params": {"input": message}})
        assert not turn.of_type("error"), turn.raw_events
        sent = emulator.agent_requests()[0]["request"]
    assert image_parts(sent) == [
        "data:image/png;base64," + base64.b64encode(preview.content).decode()
    ]


def test_a_broken_gif_is_refused_with_a_reason(alice: User) -> None:
    broken = b"GIF89a" + b"\x00" * 40
    created = alice.create("image/gif", len(broken)).json()
    uploaded = httpx.post(
        created["upload_descriptor"]["url"], content=broken, headers=alice.headers
    )
    assert uploaded.status_code == 400
    assert "GIF could not be read" in uploaded.json()["detail"]
