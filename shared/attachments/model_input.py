"""An attached image as the model sees it: an `input_image` part with the bytes inline.

Inline (a `data:` URL) because Gemini cannot fetch the gateway's owner-only preview URL, and the
OpenAI-compatible endpoint turns `input_image` parts into inline image data anyway.
"""

from __future__ import annotations

import base64

from chatkit.types import Attachment
from openai.types.responses import ResponseInputImageParam, ResponseInputTextParam

from shared.attachments.blob_store import BlobStore
from shared.errors import NotFoundError
from shared.request_context import RequestContext


async def attachment_to_input_part(
    attachment: Attachment, blobs: BlobStore, context: RequestContext
) -> ResponseInputImageParam:
    """The attachment's bytes, read as the request's user, as an `input_image` part.

    Raises `NotFoundError` when there are no bytes (never uploaded, deleted, or another user's).
    """
    data = await blobs.get(context.user_id, attachment.id)
    if data is None:
        raise NotFoundError(f"The attached image {attachment.name!r} is not available.")
    url = f"data:{attachment.mime_type};base64,{base64.b64encode(data).decode('ascii')}"
    return ResponseInputImageParam(type="input_image", image_url=url, detail="auto")


async def attachment_to_model_input(
    attachment: Attachment, blobs: BlobStore, user_id: str
) -> ResponseInputImageParam | ResponseInputTextParam:
    """Like `attachment_to_input_part`, but a missing image becomes a short note to the model.

    Used for history: one image deleted since it was sent must not fail every later turn of the
    thread.
    """
    try:
        return await attachment_to_input_part(attachment, blobs, RequestContext(user_id=user_id))
    except NotFoundError as missing:
        return ResponseInputTextParam(type="input_text", text=f"[{missing.detail}]")
