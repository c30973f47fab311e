"""GIF uploads become PNG: Gemini does not read GIF, and a PNG previews the same in a browser.

Pillow decodes the first frame (an animation's first picture); the pixel count is checked from the
header before anything is decoded, so a small file that unpacks to a huge bitmap (a
decompression bomb) is refused without the memory ever being taken.
"""

from __future__ import annotations

import io
from typing import Final

from PIL import Image, UnidentifiedImageError

from shared.errors import InvalidInputError, PayloadTooLargeError

MAX_GIF_PIXELS: Final = 16_000_000
"""16 megapixels: 64 MB as RGBA while converting, far above what Gemini resizes images to."""


def gif_to_png(data: bytes, max_bytes: int) -> bytes:
    """The GIF's first frame as PNG bytes; `InvalidInputError` for an unreadable or huge GIF,
    `PayloadTooLargeError` when the PNG would be larger than `max_bytes`."""
    try:
        with Image.open(io.BytesIO(data), formats=["GIF"]) as image:
            width, height = image.size
            if width * height > MAX_GIF_PIXELS:
                raise InvalidInputError(
                    f"The GIF is {width}x{height} pixels; at most {MAX_GIF_PIXELS:,} pixels "
                    "can be converted."
                )
            image.seek(0)
            frame = image.convert("RGBA" if "transparency" in image.info else "RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInputError("The GIF could not be read; attach a PNG or JPEG instead.") from exc
    out = io.BytesIO()
    frame.save(out, format="PNG", optimize=False)
    png = out.getvalue()
    if len(png) > max_bytes:
        raise PayloadTooLargeError(
            f"The GIF becomes a {len(png):,}-byte PNG; the limit is {max_bytes:,} bytes."
        )
    return png
