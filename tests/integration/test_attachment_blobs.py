"""Both attachment byte stores, scoped per user, against real Postgres and a real directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from chatkit.types import ImageAttachment

from shared.attachments.blob_store import BlobStore, DirectoryBlobStore, PostgresBlobStore
from shared.attachments.image_types import sniff_image_type
from shared.db.pool import DbPool
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore


async def make_attachment(pool: DbPool, user_id: str, attachment_id: str) -> None:
    attachment = ImageAttachment(
        id=attachment_id,
        name="a.png",
        mime_type="image/png",
        preview_url="http://localhost/preview",
    )
    await PostgresStore(pool).save_attachment(attachment, RequestContext(user_id=user_id))


@pytest.fixture(params=["postgres", "directory"])
async def blobs(request: pytest.FixtureRequest, db_pool: DbPool, tmp_path: Path) -> BlobStore:
    await make_attachment(db_pool, "alice", "atc_1")
    if request.param == "postgres":
        return PostgresBlobStore(db_pool)
    return DirectoryBlobStore(tmp_path)


async def test_put_get_delete_are_per_user(blobs: BlobStore) -> None:
    await blobs.put("alice", "atc_1", b"\x89PNG\r\n\x1a\nbytes")
    assert await blobs.get("alice", "atc_1") == b"\x89PNG\r\n\x1a\nbytes"
    assert await blobs.get("bob", "atc_1") is None
    await blobs.delete("bob", "atc_1")
    assert await blobs.get("alice", "atc_1") is not None
    await blobs.delete("alice", "atc_1")
    assert await blobs.get("alice", "atc_1") is None


async def test_postgres_blobs_need_the_users_attachment(db_pool: DbPool) -> None:
    blobs = PostgresBlobStore(db_pool)
    await make_attachment(db_pool, "alice", "atc_2")
    await blobs.put("bob", "atc_2", b"not bob's")
    assert await blobs.get("bob", "atc_2") is None
    await blobs.put("alice", "atc_missing", b"no such attachment")
    assert await blobs.get("alice", "atc_missing") is None


async def test_deleting_the_attachment_deletes_its_bytes(db_pool: DbPool) -> None:
    blobs = PostgresBlobStore(db_pool)
    await make_attachment(db_pool, "alice", "atc_3")
    await blobs.put("alice", "atc_3", b"bytes")
    await PostgresStore(db_pool).delete_attachment("atc_3", RequestContext(user_id="alice"))
    assert await db_pool.fetchval("SELECT count(*) FROM attachment_blobs") == 0


def test_directory_store_refuses_unsafe_ids(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        DirectoryBlobStore(tmp_path)._path("alice", "../../etc/passwd")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n...", "image/png"),
        (b"\xff\xd8\xff\xe0...", "image/jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a...", "image/gif"),
        (b"%PDF-1.7", None),
    ],
)
def test_image_types_are_sniffed(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected
