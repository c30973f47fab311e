"""How a refused turn is answered, decided here for every reason.

- The user's own limits (stream slots, today's messages): `429` with a JSON `detail` and
  `Retry-After`, before any stream starts. ChatKit.js reports a failed request; the app (or a
  script) can read the detail and when to try again.
- The service's or the thread's state (draining, no live worker, a full queue, a busy thread): a
  `200` stream of one ChatKit `error` event with `allow_retry`, and `Retry-After` on the response.
  ChatKit.js shows the message in the conversation, with a retry button; a turn waiting for its
  thread (`MULTITASK=enqueue`) that gives up ends its stream the same way.

Either way the refused turn took nothing (see `admission.py`).
"""

from __future__ import annotations

from litestar.response import Stream

from services.gateway.turns.admission import Refusal
from services.gateway.turns.error_events import SSE_HEADERS, StreamProblem, error_frame
from shared.errors import TooManyRequestsError


def refusal_response(refusal: Refusal, turn_id: str) -> Stream:
    """The response to a refused turn; raises `TooManyRequestsError` for the user's limits (the
    gateway's error mapping answers 429)."""
    if refusal.reason in ("streams", "daily_quota"):
        raise TooManyRequestsError(refusal.message, retry_after_s=refusal.retry_after_s)
    return Stream(
        [error_frame(StreamProblem(refusal.message))],
        media_type="text/event-stream",
        headers={
            **SSE_HEADERS,
            "X-Turn-Id": turn_id,
            "Retry-After": str(refusal.retry_after_s),
        },
    )
