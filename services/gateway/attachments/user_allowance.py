"""How many images, and how many bytes of them, one user may keep (`ATTACHMENT_MAX_PER_USER`,
`ATTACHMENT_MAX_BYTES_PER_USER`).

Checked at `attachments.create`, with the size the client announces (the upload must match it),
so the bytes are refused before they are sent. Two creates at the same instant may both pass:
the overshoot is bounded by the user's concurrent requests times `ATTACHMENT_MAX_BYTES`.
"""

from __future__ import annotations

from shared.attachments.upload_check import DECLARED_SIZE_KEY
from shared.db.pool import DbPool
from shared.db.user_scope import UserScopedDb
from shared.errors import PayloadTooLargeError
from shared.settings import AttachmentSettings


class AttachmentAllowance:
    def __init__(self, pool: DbPool, settings: AttachmentSettings) -> None:
        self._db = UserScopedDb(pool)
        self._settings = settings

    async def check(self, user_id: str, new_bytes: int) -> None:
        """Raise `PayloadTooLargeError` (413) unless one more image of `new_bytes` fits."""
        row = await self._db.fetchrow(
            user_id,
            "SELECT count(*) AS images, coalesce(sum((data -> 'metadata' ->> $2)::bigint), 0)"
            " AS bytes FROM attachments WHERE user_id = $1",
            user_id,
            DECLARED_SIZE_KEY,
        )
        images, used = (int(row["images"]), int(row["bytes"])) if row else (0, 0)
        limit = self._settings
        if images + 1 > limit.max_per_user:
            raise PayloadTooLargeError(
                f"You keep {images:,} images; the limit is {limit.max_per_user:,}. Delete "
                "conversations with images you no longer need."
            )
        if used + new_bytes > limit.max_bytes_per_user:
            raise PayloadTooLargeError(
                f"Your images take {used:,} bytes; with this one they would pass the limit of "
                f"{limit.max_bytes_per_user:,}. Delete conversations with images you no longer "
                "need."
            )
