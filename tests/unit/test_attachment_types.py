"""Which images reach the model (issue 14.6) and which go inline in one request (issue 17.1)."""

from __future__ import annotations

import io
import struct

import pytest
from chatkit.types import ImageAttachment
from PIL import Image

from shared.attachments.gif_conversion import MAX_GIF_PIXELS, gif_to_png
from shared.attachments.image_types import ACCEPTED_TYPES, MODEL_IMAGE_TYPES, sniff_image_type
from shared.attachments.inline_budget import plan_inline_images, unique_attachments
from shared.errors import InvalidInputError, PayloadTooLargeError
from shared.settings import base64_size
from tests.images import tiny_gif


def heif(brand: bytes) -> bytes:
    return struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x00\x00mif1heic"


def test_gemini_reads_these_and_gif_is_not_among_them() -> None:
    assert MODEL_IMAGE_TYPES == (
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/heic",
        "image/heif",
    )
    assert "image/gif" in ACCEPTED_TYPES and "image/gif" not in MODEL_IMAGE_TYPES


@pytest.mark.parametrize(
    ("data", "expected"),
    [(heif(b"heic"), "image/heic"), (heif(b"mif1"), "image/heif"), (heif(b"isom"), None)],
)
def test_heic_and_heif_are_recognised(data: bytes, expected: str | None) -> None:
    assert sniff_image_type(data) == expected


def test_a_gif_becomes_a_png_of_its_first_frame() -> None:
    png = gif_to_png(tiny_gif(), max_bytes=100_000)
    assert sniff_image_type(png) == "image/png"
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (2, 2)
        assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_a_huge_gif_is_refused_before_it_is_decoded() -> None:
    side = struct.pack("<HH", 5000, 5000)  # 25 megapixels claimed by a tiny file
    small = bytearray(tiny_gif())
    small[6:10] = side
    descriptor = small.index(b",")  # the first image descriptor: x, y, width, height
    small[descriptor + 5 : descriptor + 9] = side
    assert MAX_GIF_PIXELS < 5000 * 5000
    with pytest.raises(InvalidInputError, match="5000x5000 pixels"):
        gif_to_png(bytes(small), max_bytes=100_000)


def test_a_png_larger_than_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError):
        gif_to_png(tiny_gif(), max_bytes=10)


def attachment(attachment_id: str, mime_type: str = "image/png") -> ImageAttachment:
    return ImageAttachment(
        id=attachment_id,
        name=f"{attachment_id}.png",
        mime_type=mime_type,
        preview_url="http://gateway/preview",
    )


class SizedBlobs:
    """Only `size` is used by the planner; the bytes are never read."""

    def __init__(self, sizes: dict[str, int]) -> None:
        self.sizes = sizes
        self.size_calls: list[str] = []

    async def size(self, user_id: str, attachment_id: str) -> int | None:
        self.size_calls.append(attachment_id)
        return self.sizes.get(attachment_id)

    async def put(self, user_id: str, attachment_id: str, data: bytes) -> None:
        raise AssertionError("not used")

    async def get(self, user_id: str, attachment_id: str) -> bytes | None:
        raise AssertionError("the planner reads no bytes")

    async def delete(self, user_id: str, attachment_id: str) -> None:
        raise AssertionError("not used")


async def test_newest_images_first_each_once_within_the_budget() -> None:
    blobs = SizedBlobs({"old": 600, "mid": 600, "new": 600, "gif": 10})
    newest_first = [
        [attachment("new"), attachment("new"), attachment("gif", "image/gif")],
        [attachment("mid")],
        [attachment("old"), attachment("new")],
    ]
    plan = await plan_inline_images(newest_first, blobs, "alice", 2 * base64_size(600))
    assert plan.inline == {"new", "mid"}
    assert plan.over_budget == {"old"}
    assert blobs.size_calls == ["new", "mid", "old"]  # one look per image, none for the GIF


def test_unique_attachments_keep_the_first_of_each() -> None:
    listed = [attachment("a"), attachment("b"), attachment("a"), attachment("c"), attachment("b")]
    assert [a.id for a in unique_attachments(listed)] == ["a", "b", "c"]
