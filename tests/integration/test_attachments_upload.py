"""The gateway's upload, preview and clean-up paths in-process, on real Postgres and Redis.

Each test runs against both blob stores, so the directory store is held to the same contract.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from chatkit.types import ThreadMetadata
from litestar.testing import AsyncTestClient

from services.gateway.app import create_app
from services.gateway.auth.tokens import issue_token
from shared.attachments.blob_store import BlobStore, build_blob_store
from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.settings import Settings
from shared.store.postgres_store import PostgresStore
from tests.images import tiny_png

# The /chatkit and /healthz handlers (not these routes) still rely on inferred dependencies.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Inferred dependency field:litestar.exceptions.LitestarDeprecationWarning"
)

LIMIT = 5000


PNG = tiny_png()


@dataclass
class Gateway:
    client: AsyncTestClient[Any]
    secret: str
    # The app runs on the test client's own event loop, so the test reads Postgres and the blob
    # store through its own pool rather than the app's.
    store: PostgresStore
    blobs: BlobStore

    def auth(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.secret, user_id)}"}

    async def chatkit(self, user_id: str, request: dict[str, Any]) -> httpx.Response:
        return await self.client.post("/chatkit", json=request, headers=self.auth(user_id))

    async def create(self, user_id: str, size: int = len(PNG), mime: str = "image/png") -> str:
        params = {"name": "dot.png", "size": size, "mime_type": mime}
        created = await self.chatkit(user_id, {"type": "attachments.create", "params": params})
        assert created.status_code == 200, created.text
        attachment_id: str = created.json()["id"]
        return attachment_id

    async def upload(self, user_id: str, attachment_id: str, data: bytes) -> httpx.Response:
        return await self.client.post(
            f"/attachments/{attachment_id}/upload", content=data, headers=self.auth(user_id)
        )

    async def preview(self, user_id: str, attachment_id: str) -> httpx.Response:
        return await self.client.get(
            f"/attachments/{attachment_id}/preview", headers=self.auth(user_id)
        )


@pytest.fixture(params=["postgres", "directory"])
async def gateway(
    request: pytest.FixtureRequest,
    base_env: dict[str, str],
    db_pool: DbPool,  # empties the tables first
    tmp_path: Path,
) -> AsyncIterator[Gateway]:
    env = {
        **base_env,
        "ATTACHMENT_MAX_BYTES": str(LIMIT),
        "ATTACHMENT_STORAGE": request.param,
        "ATTACHMENT_DIR": str(tmp_path / "blobs"),
        "PUBLIC_BASE_URL": "https://chat.example.com/",
    }
    settings = Settings.from_env(env, needs_model=False)
    blobs = build_blob_store(settings.attachments, db_pool)
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield Gateway(client, env["JWT_SECRET"], PostgresStore(db_pool), blobs)


async def test_create_hands_out_links_on_the_public_url(gateway: Gateway) -> None:
    params = {"name": "dot.png", "size": len(PNG), "mime_type": "image/png"}
    created = await gateway.chatkit("alice", {"type": "attachments.create", "params": params})
    body = created.json()
    base = f"https://chat.example.com/attachments/{body['id']}"
    assert body["upload_descriptor"]["url"] == f"{base}/upload"
    assert body["upload_descriptor"]["method"] == "POST"
    assert body["preview_url"] == f"{base}/preview"
    assert "metadata" not in body  # the declared size stays on the server


async def test_raw_upload_then_owner_only_preview(gateway: Gateway) -> None:
    attachment_id = await gateway.create("alice")
    assert (await gateway.preview("alice", attachment_id)).status_code == 404  # not uploaded
    uploaded = await gateway.upload("alice", attachment_id, PNG)
    assert uploaded.status_code == 200, uploaded.text

    preview = await gateway.preview("alice", attachment_id)
    assert preview.status_code == 200 and preview.content == PNG
    assert preview.headers["content-type"] == "image/png"
    assert preview.headers["cache-control"] == "private, max-age=3600"
    assert preview.headers["x-content-type-options"] == "nosniff"
    assert (await gateway.preview("bob", attachment_id)).status_code == 404
    stored = await gateway.store.load_attachment(attachment_id, RequestContext(user_id="alice"))
    assert stored.upload_descriptor is None
    # Finished attachments keep their bytes: a second upload is refused.
    assert (await gateway.upload("alice", attachment_id, PNG)).status_code == 400


async def test_multipart_upload_as_chatkit_js_sends_it(gateway: Gateway) -> None:
    attachment_id = await gateway.create("alice")
    uploaded = await gateway.client.post(
        f"/attachments/{attachment_id}/upload",
        files={"file": ("dot.png", PNG, "image/png")},
        headers=gateway.auth("alice"),
    )
    assert uploaded.status_code == 200, uploaded.text
    assert (await gateway.preview("alice", attachment_id)).content == PNG


async def test_multipart_without_a_file_field_is_400(gateway: Gateway) -> None:
    attachment_id = await gateway.create("alice")
    response = await gateway.client.post(
        f"/attachments/{attachment_id}/upload",
        files={"image": ("dot.png", PNG, "image/png")},
        headers=gateway.auth("alice"),
    )
    assert response.status_code == 400 and "'file'" in response.json()["detail"]


async def test_uploads_that_do_not_fit_the_attachment_are_refused(gateway: Gateway) -> None:
    attachment_id = await gateway.create("alice")
    assert (await gateway.upload("bob", attachment_id, PNG)).status_code == 404
    assert (await gateway.upload("alice", "atc_unknown", PNG)).status_code == 404
    assert (await gateway.client.post(f"/attachments/{attachment_id}/upload")).status_code == 401

    short = await gateway.upload("alice", attachment_id, PNG[:-1])
    assert short.status_code == 400 and "created as" in short.json()["detail"]
    gif = b"GIF89a" + b"\x00" * (len(PNG) - 6)
    mislabelled = await gateway.upload("alice", attachment_id, gif)
    assert mislabelled.status_code == 400 and "image/gif" in mislabelled.json()["detail"]
    huge = await gateway.upload("alice", attachment_id, PNG + b"\x00" * LIMIT)
    assert huge.status_code == 413
    # Past the route's raised body limit, Litestar itself answers 413, still as JSON.
    enormous = await gateway.upload("alice", attachment_id, b"\x00" * (LIMIT + 200_000))
    assert enormous.status_code == 413 and "detail" in enormous.json()
    # None of those left bytes behind, and the attachment can still be uploaded.
    assert (await gateway.preview("alice", attachment_id)).status_code == 404
    assert (await gateway.upload("alice", attachment_id, PNG)).status_code == 200


async def test_attachments_delete_removes_the_bytes(gateway: Gateway) -> None:
    attachment_id = await gateway.create("alice")
    await gateway.upload("alice", attachment_id, PNG)
    request = {"type": "attachments.delete", "params": {"attachment_id": attachment_id}}
    assert (await gateway.chatkit("bob", request)).status_code == 404
    assert (await gateway.preview("alice", attachment_id)).status_code == 200
    assert (await gateway.chatkit("alice", request)).status_code == 200
    assert await gateway.blobs.get("alice", attachment_id) is None


async def test_deleting_a_thread_removes_its_attachment_bytes(gateway: Gateway) -> None:
    alice = RequestContext(user_id="alice")
    store = gateway.store
    thread = ThreadMetadata(id="thr_with_image", created_at=datetime.now())
    await store.save_thread(thread, alice)
    sent, unsent = await gateway.create("alice"), await gateway.create("alice")
    for attachment_id in (sent, unsent):
        assert (await gateway.upload("alice", attachment_id, PNG)).status_code == 200
    # What chatkit does when a user message carrying the attachment is saved.
    attachment = await store.load_attachment(sent, alice)
    await store.save_attachment(attachment.model_copy(update={"thread_id": thread.id}), alice)

    delete = {"type": "threads.delete", "params": {"thread_id": thread.id}}
    assert (await gateway.chatkit("bob", delete)).status_code == 404
    assert await gateway.blobs.get("alice", sent) == PNG
    assert (await gateway.chatkit("alice", delete)).status_code == 200
    assert await gateway.blobs.get("alice", sent) is None
    assert await gateway.blobs.get("alice", unsent) == PNG
