"""The second phase of an upload (`POST .../upload`) and owner-only previews (`GET .../preview`)."""

from __future__ import annotations

import asyncio

from chatkit.store import NotFoundError as ChatKitNotFoundError
from chatkit.types import Attachment
from litestar import Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath

from services.gateway.resources import GatewayResources
from shared.attachments.gif_conversion import gif_to_png
from shared.attachments.image_types import CONVERTED_TYPES
from shared.attachments.upload_check import check_upload
from shared.errors import InvalidInputError, NotFoundError
from shared.request_context import RequestContext

MULTIPART_OVERHEAD_BYTES = 64 * 1024


async def _uploaded_bytes(request: Request[object, object, State]) -> bytes:
    """The file from a multipart form (field `file`, as ChatKit.js sends it) or the raw body."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInputError("The upload form has no 'file' field.")
        return await upload.read()
    return await request.body()


async def _load(
    attachment_id: str, resources: GatewayResources, context: RequestContext
) -> Attachment:
    """The caller's attachment; another user's reads as missing (404), never as forbidden."""
    try:
        return await resources.store.load_attachment(attachment_id, context)
    except ChatKitNotFoundError as exc:
        raise NotFoundError(f"Attachment {attachment_id} was not found.") from exc


async def upload_attachment(
    attachment_id: FromPath[str],
    request: Request[object, object, State],
    resources: NamedDependency[GatewayResources],
    request_context: NamedDependency[RequestContext],
) -> dict[str, str]:
    """Phase two: store the bytes of the caller's attachment once they pass `check_upload`."""
    attachment = await _load(attachment_id, resources, request_context)
    data = await _uploaded_bytes(request)
    max_bytes = resources.settings.attachments.max_bytes
    check_upload(attachment, data, max_bytes)
    stored_type = attachment.mime_type
    if stored_type in CONVERTED_TYPES:
        # Gemini does not read GIF: the PNG is what is kept, previewed and sent to the model.
        data = await asyncio.to_thread(gif_to_png, data, max_bytes)
        stored_type = "image/png"
    await resources.blobs.put(request_context.user_id, attachment_id, data)
    # Read it again: the body may have taken a while, and the metadata saved here must not undo
    # a change made meanwhile (e.g. the thread it was sent in). Uploaded, it needs no upload
    # instructions any more, which is also how ChatKit tells a finished attachment.
    current = await _load(attachment_id, resources, request_context)
    await resources.store.save_attachment(
        current.model_copy(update={"upload_descriptor": None, "mime_type": stored_type}),
        request_context,
    )
    return {"id": attachment_id, "status": "uploaded"}


async def preview_attachment(
    attachment_id: FromPath[str],
    resources: NamedDependency[GatewayResources],
    request_context: NamedDependency[RequestContext],
) -> Response[bytes]:
    """The image for its owner only; private caching, and never sniffed as another type."""
    attachment = await _load(attachment_id, resources, request_context)
    data = await resources.blobs.get(request_context.user_id, attachment_id)
    if data is None:
        raise NotFoundError(f"Attachment {attachment_id} has not been uploaded.")
    return Response(
        content=data,
        media_type=attachment.mime_type,
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def attachment_routes(max_attachment_bytes: int) -> list[HTTPRouteHandler]:
    """The routes, with the upload's body limit raised from the app's small ChatKit limit."""
    return [
        post(
            "/attachments/{attachment_id:str}/upload",
            status_code=200,
            request_max_body_size=max_attachment_bytes + MULTIPART_OVERHEAD_BYTES,
        )(upload_attachment),
        get("/attachments/{attachment_id:str}/preview")(preview_attachment),
    ]
