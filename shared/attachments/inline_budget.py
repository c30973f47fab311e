"""Which attached images of a model request go inline, within `MODEL_MAX_INLINE_BYTES`.

A request carries every image of the history window, base64-encoded: without a budget, a thread
whose messages list large images (or one image many times) makes each turn read, encode and send
them all again. Gemini also refuses a request over 20 MB
(https://ai.google.dev/gemini-api/docs/vision, "Passing inline image data"). The newest images
are chosen first; each image goes at most once per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from chatkit.types import Attachment

from shared.attachments.blob_store import BlobStore
from shared.attachments.image_types import MODEL_IMAGE_TYPES
from shared.settings import base64_size


@dataclass(frozen=True, slots=True)
class InlinePlan:
    inline: frozenset[str] = field(default_factory=frozenset)
    """Images sent as image parts."""
    over_budget: frozenset[str] = field(default_factory=frozenset)
    """Images left out for room: the model gets a note. (Missing images and types the model
    cannot read are in neither set.)"""


async def plan_inline_images(
    messages_newest_first: Sequence[Sequence[Attachment]],
    blobs: BlobStore,
    user_id: str,
    max_inline_bytes: int,
) -> InlinePlan:
    """Which images to send inline, newest first while they fit; sizes are read from the blob
    store without reading the bytes."""
    remaining = max_inline_bytes
    chosen: set[str] = set()
    left_out: set[str] = set()
    seen: set[str] = set()
    for attachments in messages_newest_first:
        for attachment in attachments:
            if attachment.id in seen or attachment.mime_type not in MODEL_IMAGE_TYPES:
                continue
            seen.add(attachment.id)
            size = await blobs.size(user_id, attachment.id)
            if size is None:
                continue  # nothing to send; the converter writes a note
            cost = base64_size(size)
            if cost <= remaining:
                chosen.add(attachment.id)
                remaining -= cost
            else:
                left_out.add(attachment.id)
    return InlinePlan(frozenset(chosen), frozenset(left_out))


def unique_attachments(attachments: Sequence[Attachment]) -> list[Attachment]:
    """`attachments` with each id once, in their order."""
    return list({attachment.id: attachment for attachment in attachments}.values())
