"""An attached image as the model sees it: an `input_image` part with the bytes inline, or a short
note in its place.

Inline (a `data:` URL) because Gemini cannot fetch the gateway's owner-only preview URL, and the
OpenAI-compatible endpoint turns `input_image` parts into inline image data anyway. Only the types
Gemini reads go inline; anything else (a GIF stored before GIFs were converted at upload) becomes a
note, as does an image left out to keep the request within `MODEL_MAX_INLINE_BYTES`.
"""

from __future__ import annotations

import base64

from chatkit.types import Attachment
from openai.types.responses import ResponseInputImageParam, ResponseInputTextParam

from shared.attachments.blob_store import BlobStore
from shared.attachments.image_types import MODEL_IMAGE_TYPES
from shared.errors import InvalidInputError, NotFoundError
from shared.request_context import RequestContext


async def attachment_to_input_part(
    attachment: Attachment, blobs: BlobStore, context: RequestContext
) -> ResponseInputImageParam:
    """The attachment's bytes, read as the request's user, as an `input_image` part.

    Raises `NotFoundError` when there are no bytes (never uploaded, deleted, or another user's),
    `InvalidInputError` for a type the model does not read.
    """
    if attachment.mime_type not in MODEL_IMAGE_TYPES:
        raise InvalidInputError(
            f"The attached image {attachment.name!r} is {attachment.mime_type}, which the model "
            "cannot read."
        )
    data = await blobs.get(context.user_id, attachment.id)
    if data is None:
        raise NotFoundError(f"The attached image {attachment.name!r} is not available.")
    url = f"data:{attachment.mime_type};base64,{base64.b64encode(data).decode('ascii')}"
    return ResponseInputImageParam(type="input_image", image_url=url, detail="auto")


def left_out_note(attachment: Attachment, reason: str) -> ResponseInputTextParam:
    """What the model reads instead of an image it is not sent."""
    return ResponseInputTextParam(
        type="input_text", text=f"[The image {attachment.name!r} is not shown here: {reason}.]"
    )


async def attachment_to_model_input(
    attachment: Attachment, blobs: BlobStore, user_id: str
) -> ResponseInputImageParam | ResponseInputTextParam:
    """Like `attachment_to_input_part`, but a missing or unreadable image becomes a short note.

    Used for history: one image deleted since it was sent must not fail every later turn of the
    thread.
    """
    try:
        return await attachment_to_input_part(attachment, blobs, RequestContext(user_id=user_id))
    except (NotFoundError, InvalidInputError) as missing:
        return ResponseInputTextParam(type="input_text", text=f"[{missing.detail}]")
