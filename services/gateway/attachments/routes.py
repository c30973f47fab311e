"""The second phase of an upload (`POST .../upload`) and owner-only previews (`GET .../preview`)."""

from __future__ import annotations

from chatkit.store import NotFoundError as ChatKitNotFoundError
from litestar import Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.handlers import HTTPRouteHandler

from services.gateway.resources import GatewayResources
from shared.attachments.image_types import sniff_image_type
from shared.errors import InvalidInputError, NotFoundError, PayloadTooLargeError
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


async def upload_attachment(
    attachment_id: str,
    request: Request[object, object, State],
    resources: GatewayResources,
    request_context: RequestContext,
) -> dict[str, str]:
    try:
        attachment = await resources.store.load_attachment(attachment_id, request_context)
    except ChatKitNotFoundError as exc:
        raise NotFoundError(f"Attachment {attachment_id} was not found.") from exc
    data = await _uploaded_bytes(request)
    limit = resources.settings.attachments.max_bytes
    if len(data) > limit:
        raise PayloadTooLargeError(f"The file is {len(data):,} bytes; the limit is {limit:,}.")
    actual = sniff_image_type(data)
    if actual != attachment.mime_type:
        raise InvalidInputError(
            f"The uploaded bytes are {actual or 'not a PNG, JPEG, WebP or GIF image'}, "
            f"but the attachment was created as {attachment.mime_type}."
        )
    await resources.blobs.put(request_context.user_id, attachment_id, data)
    # Uploaded: ChatKit expects no upload instructions on a finished attachment.
    await resources.store.save_attachment(
        attachment.model_copy(update={"upload_descriptor": None}), request_context
    )
    return {"id": attachment_id, "status": "uploaded"}


async def preview_attachment(
    attachment_id: str, resources: GatewayResources, request_context: RequestContext
) -> Response[bytes]:
    try:
        attachment = await resources.store.load_attachment(attachment_id, request_context)
    except ChatKitNotFoundError as exc:
        raise NotFoundError(f"Attachment {attachment_id} was not found.") from exc
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
