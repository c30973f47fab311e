"""chatkit's `AttachmentStore`: the first phase of an upload, and cleaning up on delete."""

from __future__ import annotations

from chatkit.store import AttachmentStore
from chatkit.types import Attachment, AttachmentCreateParams, ImageAttachment

from services.gateway.attachments.user_allowance import AttachmentAllowance
from shared.attachments.blob_store import BlobStore
from shared.attachments.image_types import ACCEPTED_NAMES, ACCEPTED_TYPES
from shared.attachments.upload_check import DECLARED_SIZE_KEY
from shared.errors import InvalidInputError, PayloadTooLargeError
from shared.request_context import RequestContext
from shared.settings import AttachmentSettings
from shared.store.ids import new_id


class GatewayAttachmentStore(AttachmentStore[RequestContext]):
    """Image attachments whose bytes are uploaded to this gateway, then kept in a `BlobStore`."""

    def __init__(
        self, settings: AttachmentSettings, blobs: BlobStore, allowance: AttachmentAllowance
    ) -> None:
        self._settings = settings
        self._blobs = blobs
        self._allowance = allowance

    async def create_attachment(
        self, input: AttachmentCreateParams, context: RequestContext
    ) -> Attachment:
        """Check what the client announces and hand back where to upload the bytes."""
        mime_type = input.mime_type.split(";")[0].strip().lower()
        if mime_type not in ACCEPTED_TYPES:
            raise InvalidInputError(
                f"{input.name!r} is {input.mime_type or 'of an unknown type'}; only images can be "
                f"attached ({ACCEPTED_NAMES})."
            )
        if input.size > self._settings.max_bytes:
            raise PayloadTooLargeError(
                f"{input.name!r} is {input.size:,} bytes; the limit is "
                f"{self._settings.max_bytes:,} bytes."
            )
        if input.size <= 0:
            raise InvalidInputError(f"{input.name!r} is empty.")
        await self._allowance.check(context.user_id, input.size)
        attachment_id = new_id("attachment")
        base = f"{self._settings.public_base_url}/attachments/{attachment_id}"
        return ImageAttachment(
            id=attachment_id,
            name=input.name,
            mime_type=mime_type,
            upload_descriptor={"url": f"{base}/upload", "method": "POST"},
            preview_url=f"{base}/preview",
            # The upload must match it; `metadata` is stored but never sent to the client.
            metadata={DECLARED_SIZE_KEY: input.size},
        )

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        """Delete the bytes; chatkit deletes the metadata through the Store right after."""
        await self._blobs.delete(context.user_id, attachment_id)
