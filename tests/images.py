"""Test images, built here rather than kept as files."""

from __future__ import annotations

import io
import os
import struct
import zlib

from PIL import Image


def tiny_png() -> bytes:
    """A valid 1x1 PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def padded_png(size: int) -> bytes:
    """A PNG of exactly `size` bytes: a 1x1 image followed by random bytes (kept by the server
    as they are; only the signature is checked)."""
    png = tiny_png()
    return png + os.urandom(size - len(png))


def tiny_gif() -> bytes:
    """A 2x2 two-frame GIF (an animation), made with Pillow."""
    frames = [Image.new("RGB", (2, 2), colour) for colour in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    return out.getvalue()
