"""Checking an upload (the second phase) against what `attachments.create` announced."""

from __future__ import annotations

from chatkit.types import Attachment

from shared.attachments.image_types import ACCEPTED_NAMES, sniff_image_type
from shared.errors import InvalidInputError, PayloadTooLargeError

# Kept in the attachment's integration-only `metadata`, which chatkit never sends to clients.
DECLARED_SIZE_KEY = "declared_size"


def declared_size(attachment: Attachment) -> int | None:
    """The size the client announced at `attachments.create`, if recorded."""
    size = (attachment.metadata or {}).get(DECLARED_SIZE_KEY)
    return size if isinstance(size, int) else None


def check_upload(attachment: Attachment, data: bytes, max_bytes: int) -> None:
    """Raise a user-facing error unless `data` may become the bytes of `attachment`.

    The bytes must fit the limit, match the announced size, and really be the announced image
    type: the preview is served with that Content-Type, so a mislabelled file would be
    rendered (or sent to the model) as something it is not.
    """
    if attachment.upload_descriptor is None:
        # Once uploaded the bytes may already be in a message the model saw; never swap them.
        raise InvalidInputError(f"Attachment {attachment.id} has already been uploaded.")
    if len(data) > max_bytes:
        raise PayloadTooLargeError(f"The file is {len(data):,} bytes; the limit is {max_bytes:,}.")
    # The type first: "not an image" says more than "another size" about a wrong file.
    actual = sniff_image_type(data)
    if actual != attachment.mime_type:
        raise InvalidInputError(
            f"The uploaded bytes are {actual or 'not a ' + ACCEPTED_NAMES + ' image'}, "
            f"but the attachment was created as {attachment.mime_type}."
        )
    expected = declared_size(attachment)
    if expected is not None and len(data) != expected:
        raise InvalidInputError(
            f"The upload is {len(data):,} bytes, but the attachment was created as "
            f"{expected:,} bytes; create a new attachment for a different file."
        )
