"""Which images are accepted, and checking that bytes really are the type they claim."""

from __future__ import annotations

ACCEPTED_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


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
    return None
