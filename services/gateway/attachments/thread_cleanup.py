"""Deleting a thread deletes the bytes of the images sent in it, whatever the blob store.

The attachment rows go with the thread (FK cascade) and so do their rows in `attachment_blobs`,
but files under `ATTACHMENT_DIR` know nothing of threads: without this they would stay forever.
"""

from __future__ import annotations

import logging

from shared.attachments.blob_store import BlobStore
from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore

logger = logging.getLogger(__name__)


class AttachmentCleaningStore(PostgresStore):
    """The Postgres store, with `delete_thread` also deleting the thread's attachment bytes."""

    def __init__(self, pool: DbPool, blobs: BlobStore) -> None:
        super().__init__(pool)
        self._scoped = UserScopedDb(pool)
        self._blobs = blobs

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        """Delete the thread (and, by cascade, its attachments), then their bytes."""
        rows = await self._scoped.fetch(
            context.user_id,
            "SELECT id FROM attachments WHERE thread_id = $1 AND user_id = $2",
            thread_id,
            context.user_id,
        )
        await super().delete_thread(thread_id, context)
        # Bytes last: if this fails the thread is still gone and only unreachable bytes remain,
        # never a thread whose images are missing.
        for row in rows:
            try:
                await self._blobs.delete(context.user_id, row["id"])
            except OSError:
                logger.warning("could not delete the bytes of attachment %s", row["id"])
