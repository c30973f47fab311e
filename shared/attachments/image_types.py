"""Which images are accepted, which reach the model, and checking that bytes are what they claim.

Gemini reads PNG, JPEG, WebP, HEIC and HEIF images (https://ai.google.dev/gemini-api/docs/vision,
"Supported image formats"); GIF is not among them, so a GIF is accepted at upload only to be
converted to PNG there (`gif_conversion.py`) and never reaches the model as a GIF.
"""

from __future__ import annotations

from typing import Final

MODEL_IMAGE_TYPES: Final = ("image/png", "image/jpeg", "image/webp", "image/heic", "image/heif")
"""What Gemini reads; the only types sent to the model."""
CONVERTED_TYPES: Final = ("image/gif",)
"""Accepted at upload and stored as PNG."""
ACCEPTED_TYPES: Final = MODEL_IMAGE_TYPES + CONVERTED_TYPES
ACCEPTED_NAMES: Final = "PNG, JPEG, WebP, HEIC, HEIF or GIF"

# ISO base media file brands (the `ftyp` box) of HEIF images: HEVC-coded ones are HEIC.
_HEIC_BRANDS: Final = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis"}
_HEIF_BRANDS: Final = {b"mif1", b"msf1"}


def sniff_image_type(data: bytes) -> str | None:
    """The image type the bytes' signature says, or None if they are none of the accepted ones."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
    return None
