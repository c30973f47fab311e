"""An attached image as the model sees it: an `input_image` part with the bytes inline."""

from __future__ import annotations

import base64

from chatkit.types import Attachment
from openai.types.responses import ResponseInputImageParam, ResponseInputTextParam

from shared.attachments.blob_store import BlobStore


async def attachment_to_model_input(
    attachment: Attachment, blobs: BlobStore, user_id: str
) -> ResponseInputImageParam | ResponseInputTextParam:
    data = await blobs.get(user_id, attachment.id)
    if data is None:
        # Never uploaded, or deleted since: say so rather than failing the whole turn.
        return ResponseInputTextParam(
            type="input_text", text=f"[The attached image {attachment.name!r} is not available.]"
        )
    url = f"data:{attachment.mime_type};base64,{base64.b64encode(data).decode('ascii')}"
    return ResponseInputImageParam(type="input_image", image_url=url, detail="auto")
