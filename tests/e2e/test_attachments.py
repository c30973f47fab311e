"""Image attachments kept in a directory (ATTACHMENT_STORAGE=directory), through real processes.

The Postgres blob store has its end-to-end round trip in test_attachments_and_dictation.py; this
one follows the files on disk: written on upload, gone on `attachments.delete` and when the
thread they were sent in is deleted.
"""

from __future__ import annotations

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
from tests.images import tiny_png

pytestmark = pytest.mark.e2e

LIMIT = 20_000


PNG = tiny_png()


@pytest.fixture(scope="module")
def blob_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("attachment-files")


@pytest.fixture(scope="module")
def system(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory, blob_dir: Path
) -> Iterator[System]:
    env = {
        "ATTACHMENT_STORAGE": "directory",
        "ATTACHMENT_DIR": str(blob_dir),
        "ATTACHMENT_MAX_BYTES": str(LIMIT),
    }
    with running_system(backends, tmp_path_factory, "e2e-attachment-files", env) as running:
        yield running


class User:
    def __init__(self, system: System, blob_dir: Path) -> None:
        self.id = f"files-{uuid.uuid4().hex[:8]}"
        self.chat = ChatKitClient(system.gateway_url, system.token(self.id))
        self.headers = {"Authorization": f"Bearer {system.token(self.id)}"}
        self.folder = blob_dir / self.id.encode().hex()

    def create(self, mime_type: str = "image/png", size: int = len(PNG)) -> httpx.Response:
        params = {"name": "dot.png", "size": size, "mime_type": mime_type}
        return self.chat.request({"type": "attachments.create", "params": params})

    def upload(self, attachment: dict[str, Any], data: bytes) -> httpx.Response:
        url = attachment["upload_descriptor"]["url"]
        files = {"file": ("dot.png", data, "image/png")}
        return httpx.post(url, files=files, headers=self.headers)

    def preview(self, attachment: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        return httpx.get(attachment["preview_url"], headers=headers)


@pytest.fixture
def alice(system: System, blob_dir: Path) -> Iterator[User]:
    user = User(system, blob_dir)
    yield user
    user.chat.close()


@pytest.fixture
def bob(system: System, blob_dir: Path) -> Iterator[User]:
    user = User(system, blob_dir)
    yield user
    user.chat.close()


def test_image_sent_in_a_thread_lives_and_dies_with_it(alice: User, bob: User) -> None:
    attachment = alice.create().json()
    assert alice.upload(attachment, PNG).status_code == 200
    assert (alice.folder / attachment["id"]).read_bytes() == PNG
    preview = alice.preview(attachment, alice.headers)
    assert preview.status_code == 200 and preview.content == PNG
    assert alice.preview(attachment, bob.headers).status_code == 404

    message = user_input("what is in this picture?")
    message["attachments"] = [attachment["id"]]
    turn = alice.chat.stream({"type": "threads.create", "params": {"input": message}})
    assert turn.status_code == 200 and not turn.of_type("error"), turn.raw_events
    listed = alice.chat.request(
        {"type": "items.list", "params": {"thread_id": turn.thread_id, "order": "asc"}}
    ).json()["data"]
    assert [a["id"] for a in listed[0]["attachments"]] == [attachment["id"]]

    deleted = alice.chat.request(
        {"type": "threads.delete", "params": {"thread_id": turn.thread_id}}
    )
    assert deleted.status_code == 200
    assert not (alice.folder / attachment["id"]).exists()
    assert alice.preview(attachment, alice.headers).status_code == 404


def test_attachments_delete_removes_the_file(alice: User) -> None:
    attachment = alice.create().json()
    assert alice.upload(attachment, PNG).status_code == 200
    deleted = alice.chat.request(
        {"type": "attachments.delete", "params": {"attachment_id": attachment["id"]}}
    )
    assert deleted.status_code == 200
    assert not (alice.folder / attachment["id"]).exists()
    assert alice.preview(attachment, alice.headers).status_code == 404


def test_refusals_are_json_with_a_reason(alice: User) -> None:
    pdf = alice.create("application/pdf", 100)
    assert pdf.status_code == 400 and "only images" in pdf.json()["detail"]
    huge = alice.create(size=LIMIT + 1)
    assert huge.status_code == 413 and "limit" in huge.json()["detail"]

    attachment = alice.create(size=len(PNG) + 10).json()
    wrong_size = alice.upload(attachment, PNG)
    assert wrong_size.status_code == 400 and "created as" in wrong_size.json()["detail"]
    too_big = alice.upload(attachment, PNG + b"\x00" * LIMIT)
    assert too_big.status_code == 413
    assert not (alice.folder / attachment["id"]).exists()
