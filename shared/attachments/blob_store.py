"""Where attachment bytes are kept: Postgres (default) or a directory shared by the replicas.

Every call is scoped to the user: another user's attachment reads as missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Protocol

import asyncpg

from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb
from shared.settings import AttachmentSettings

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


class BlobStore(Protocol):
    async def put(self, user_id: str, attachment_id: str, data: bytes) -> None: ...

    async def get(self, user_id: str, attachment_id: str) -> bytes | None: ...

    async def size(self, user_id: str, attachment_id: str) -> int | None:
        """How many bytes `get` would return, without reading them; None when there are none."""
        ...

    async def delete(self, user_id: str, attachment_id: str) -> None: ...


class PostgresBlobStore:
    def __init__(self, pool: DbPool) -> None:
        self._db = UserScopedDb(pool)

    async def put(self, user_id: str, attachment_id: str, data: bytes) -> None:
        # The attachment row must be the user's; if it was deleted meanwhile, nothing is kept.
        with contextlib.suppress(asyncpg.ForeignKeyViolationError):
            await self._db.execute(
                user_id,
                "INSERT INTO attachment_blobs (attachment_id, user_id, bytes)"
                " SELECT id, user_id, $3 FROM attachments WHERE id = $1 AND user_id = $2"
                " ON CONFLICT (attachment_id) DO UPDATE SET bytes = excluded.bytes",
                attachment_id,
                user_id,
                data,
            )

    async def get(self, user_id: str, attachment_id: str) -> bytes | None:
        data = await self._db.fetchval(
            user_id,
            "SELECT bytes FROM attachment_blobs WHERE attachment_id = $1 AND user_id = $2",
            attachment_id,
            user_id,
        )
        return bytes(data) if data is not None else None

    async def size(self, user_id: str, attachment_id: str) -> int | None:
        size = await self._db.fetchval(
            user_id,
            "SELECT octet_length(bytes) FROM attachment_blobs"
            " WHERE attachment_id = $1 AND user_id = $2",
            attachment_id,
            user_id,
        )
        return int(size) if size is not None else None

    async def delete(self, user_id: str, attachment_id: str) -> None:
        await self._db.execute(
            user_id,
            "DELETE FROM attachment_blobs WHERE attachment_id = $1 AND user_id = $2",
            attachment_id,
            user_id,
        )


class DirectoryBlobStore:
    """Files at `<root>/<user>/<attachment id>`. Bytes of a deleted thread's attachments stay
    until the attachment itself is deleted (Postgres storage removes them with the thread)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, user_id: str, attachment_id: str) -> Path:
        user = user_id.encode().hex()  # any user id becomes a safe folder name
        if not _SAFE_NAME.match(attachment_id):
            raise ValueError(f"unsafe attachment id {attachment_id!r}")
        return self._root / user / attachment_id

    async def put(self, user_id: str, attachment_id: str, data: bytes) -> None:
        path = self._path(user_id, attachment_id)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_bytes(data)
            partial.replace(path)  # readers never see half a file

        await asyncio.to_thread(write)

    async def get(self, user_id: str, attachment_id: str) -> bytes | None:
        path = self._path(user_id, attachment_id)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def size(self, user_id: str, attachment_id: str) -> int | None:
        path = self._path(user_id, attachment_id)
        try:
            return (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, user_id: str, attachment_id: str) -> None:
        await asyncio.to_thread(self._path(user_id, attachment_id).unlink, missing_ok=True)


def build_blob_store(settings: AttachmentSettings, pool: DbPool) -> BlobStore:
    if settings.storage == "directory":
        assert settings.directory is not None  # checked by Settings.from_env
        return DirectoryBlobStore(Path(settings.directory))
    return PostgresBlobStore(pool)
