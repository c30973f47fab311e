"""What an upload must be to become an attachment's bytes."""

from __future__ import annotations

import pytest
from chatkit.types import AttachmentUploadDescriptor, ImageAttachment

from shared.attachments.upload_check import DECLARED_SIZE_KEY, check_upload, declared_size
from shared.errors import InvalidInputError, PayloadTooLargeError

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def announced(size: int | None = len(PNG), *, uploaded: bool = False) -> ImageAttachment:
    return ImageAttachment(
        id="atc_1",
        name="dot.png",
        mime_type="image/png",
        preview_url="http://gateway/attachments/atc_1/preview",
        upload_descriptor=None
        if uploaded
        else AttachmentUploadDescriptor(
            url="http://gateway/attachments/atc_1/upload", method="POST"
        ),
        metadata=None if size is None else {DECLARED_SIZE_KEY: size},
    )


def test_the_announced_image_passes() -> None:
    check_upload(announced(), PNG, max_bytes=1000)


def test_attachments_from_before_sizes_were_recorded_still_upload() -> None:
    assert declared_size(announced(None)) is None
    check_upload(announced(None), PNG, max_bytes=1000)


def test_larger_than_the_limit_is_413() -> None:
    with pytest.raises(PayloadTooLargeError, match="limit is 10"):
        check_upload(announced(), PNG, max_bytes=10)


def test_a_different_size_than_announced_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="created as 33 bytes"):
        check_upload(announced(33), PNG, max_bytes=1000)


@pytest.mark.parametrize(
    ("data", "found"),
    [(b"GIF89a" + b"\x00" * 26, "image/gif"), (b"%PDF-1.7" + b"\x00" * 24, "not a PNG")],
)
def test_bytes_of_another_type_are_refused(data: bytes, found: str) -> None:
    with pytest.raises(InvalidInputError, match=found):
        check_upload(announced(), data, max_bytes=1000)


def test_uploaded_bytes_are_never_replaced() -> None:
    with pytest.raises(InvalidInputError, match="already been uploaded"):
        check_upload(announced(uploaded=True), PNG, max_bytes=1000)
