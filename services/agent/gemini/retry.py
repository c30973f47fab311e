"""When and how long to wait before retrying a failed model call."""

from __future__ import annotations

import random

BASE_DELAY_S = 0.5


def retry_delay_s(attempt: int, retry_after: str | None, max_delay_s: float) -> float:
    """Full-jitter exponential backoff, never shorter than the server's `Retry-After`."""
    backoff = random.uniform(0, BASE_DELAY_S * 2**attempt)
    requested = 0.0
    if retry_after is not None:
        try:
            requested = max(0.0, float(retry_after))
        except ValueError:
            requested = 0.0  # an HTTP date; rare from Gemini, and the backoff still applies
    return min(max(backoff, requested), max_delay_s)
