"""Attached images as model input, read from a real blob store as the request's user."""

from __future__ import annotations

import base64

import pytest
from chatkit.types import ImageAttachment

from shared.attachments.blob_store import PostgresBlobStore
from shared.attachments.model_input import attachment_to_input_part, attachment_to_model_input
from shared.db.pool import DbPool
from shared.errors import NotFoundError
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore

PNG = b"\x89PNG\r\n\x1a\nnot-really-pixels"
ALICE = RequestContext(user_id="alice")


@pytest.fixture
async def attachment(db_pool: DbPool) -> ImageAttachment:
    stored = ImageAttachment(
        id="atc_model",
        name="dot.png",
        mime_type="image/png",
        preview_url="http://gateway/attachments/atc_model/preview",
    )
    await PostgresStore(db_pool).save_attachment(stored, ALICE)
    return stored


async def test_an_uploaded_image_becomes_an_inline_input_image(
    db_pool: DbPool, attachment: ImageAttachment
) -> None:
    blobs = PostgresBlobStore(db_pool)
    await blobs.put("alice", attachment.id, PNG)
    part = await attachment_to_input_part(attachment, blobs, ALICE)
    assert part == {
        "type": "input_image",
        "image_url": "data:image/png;base64," + base64.b64encode(PNG).decode(),
        "detail": "auto",
    }


async def test_missing_or_foreign_bytes_are_not_found(
    db_pool: DbPool, attachment: ImageAttachment
) -> None:
    blobs = PostgresBlobStore(db_pool)
    with pytest.raises(NotFoundError, match=r"dot\.png"):
        await attachment_to_input_part(attachment, blobs, ALICE)
    await blobs.put("alice", attachment.id, PNG)
    with pytest.raises(NotFoundError):
        await attachment_to_input_part(attachment, blobs, RequestContext(user_id="bob"))


async def test_history_tolerates_a_deleted_image(
    db_pool: DbPool, attachment: ImageAttachment
) -> None:
    part = await attachment_to_model_input(attachment, PostgresBlobStore(db_pool), "alice")
    assert part["type"] == "input_text" and "not available" in part["text"]
