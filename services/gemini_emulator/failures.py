"""Scripted failures: which ones exist and how a request asks for one.

Tests trigger failures deterministically in three ways: an `X-Emulator-Fail` header (direct HTTP
tests), a `[[fail:<mode>]]` marker in the last user message (end-to-end tests, which only control
what the user types), or the server-side queue in `EmulatorState` ("the next N requests fail").
"""

from __future__ import annotations

import re
from enum import StrEnum

FAIL_HEADER = "x-emulator-fail"

_MARKER = re.compile(r"\[\[\s*fail\s*:\s*([^\]\s]*)\s*\]\]", re.IGNORECASE)


class FailureMode(StrEnum):
    """How a chat request should go wrong."""

    BAD_REQUEST = "400"
    RATE_LIMITED = "429"
    INTERNAL = "500"
    UNAVAILABLE = "503"
    # Stream a few text chunks, then end the body without a finish chunk and without [DONE].
    CUT = "cut"
    # Send headers (and a role-only chunk when streaming), then nothing until the client leaves.
    HANG = "hang"
    # A single chunk with `finish_reason: "length"` and no content.
    LENGTH = "length"
    # An empty answer with `finish_reason: "stop"` to a request that ends with a tool result
    # (a known Gemini behaviour); other requests are answered normally and, when queued, leave
    # it queued for the next one that ends with a tool result.
    EMPTY_AFTER_TOOL = "empty_after_tool"

    @property
    def http_status(self) -> int | None:
        """The HTTP error code for error modes, None for modes that answer 200."""
        return int(self.value) if self.value.isdigit() else None


class UnknownFailureMode(ValueError):
    """A header, marker or queue request named a mode that does not exist."""


def parse_mode(raw: str) -> FailureMode:
    try:
        return FailureMode(raw.strip().lower())
    except ValueError:
        known = ", ".join(mode.value for mode in FailureMode)
        raise UnknownFailureMode(
            f"unknown emulator failure mode {raw!r}; use one of {known}"
        ) from None


def requested_failure(header: str | None, last_user_text: str | None) -> FailureMode | None:
    """The failure asked for by this request itself; the header wins over a text marker.

    Raises UnknownFailureMode so a typo in a test fails loudly instead of silently succeeding.
    """
    if header is not None and header.strip():
        return parse_mode(header)
    if last_user_text:
        match = _MARKER.search(last_user_text)
        if match:
            return parse_mode(match.group(1))
    return None


def strip_markers(text: str) -> str:
    """The user's text without failure markers, so replies never echo test plumbing."""
    return " ".join(_MARKER.sub(" ", text).split())
