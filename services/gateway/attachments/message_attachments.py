"""What one message may make a worker do with images, checked before the turn is queued.

A message lists attachment ids; the worker reads and base64-encodes each image it sends to the
model. So the gateway refuses a message with more references than `ATTACHMENT_MAX_PER_MESSAGE`
(a repeated id counts each time) and one whose distinct images would not fit in one model
request (`MODEL_MAX_INLINE_BYTES`), and queues the message with each id once. The worker still
sends each image once and keeps the whole request within the budget
(`shared/attachments/inline_budget.py`), for threads stored before.
"""

from __future__ import annotations

import json
from typing import TypeVar, cast

from chatkit.types import ChatKitReq, ThreadsAddUserMessageReq, ThreadsCreateReq

from services.gateway.chatkit_requests import parse_chatkit_request
from shared.attachments.blob_store import BlobStore
from shared.errors import InvalidInputError, PayloadTooLargeError
from shared.request_context import RequestContext
from shared.settings import AttachmentSettings, base64_size
from shared.store.postgres_store import PostgresStore

RequestT = TypeVar("RequestT", bound=ChatKitReq)


async def check_message_attachments(
    parsed: ChatKitReq,
    store: PostgresStore,
    blobs: BlobStore,
    settings: AttachmentSettings,
    context: RequestContext,
) -> None:
    """404 for an attachment that is not the caller's, 400 for too many, 413 for too large."""
    if not isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        return
    listed = parsed.params.input.attachments
    if len(listed) > settings.max_per_message:
        raise InvalidInputError(
            f"The message lists {len(listed)} attachments; the limit is "
            f"{settings.max_per_message} (each image once)."
        )
    inline_bytes = 0
    for attachment_id in dict.fromkeys(listed):
        await store.load_attachment(attachment_id, context)  # another user's reads as missing
        inline_bytes += base64_size(await blobs.size(context.user_id, attachment_id) or 0)
    if inline_bytes > settings.max_inline_bytes:
        raise PayloadTooLargeError(
            f"The message's images come to {inline_bytes:,} bytes as sent to the model; the "
            f"limit is {settings.max_inline_bytes:,}. Send fewer or smaller images."
        )


def without_repeated_attachments(body: bytes, parsed: RequestT) -> tuple[bytes, RequestT]:
    """The request with each attachment id listed once (the message is stored as queued)."""
    if not isinstance(parsed, ThreadsCreateReq | ThreadsAddUserMessageReq):
        return body, parsed
    listed = parsed.params.input.attachments
    if len(set(listed)) == len(listed):
        return body, parsed
    request = json.loads(body)
    request["params"]["input"]["attachments"] = list(dict.fromkeys(listed))
    unique = json.dumps(request, ensure_ascii=False).encode()
    return unique, cast(RequestT, parse_chatkit_request(unique))
