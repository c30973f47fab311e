"""Every event the gateway itself puts in a turn's stream (rather than relays from its worker),
with its user-facing message: built here only."""

from __future__ import annotations

from dataclasses import dataclass

from shared.turns.error_events import error_event, notice_event

KEEPALIVE = b": keepalive\n\n"
"""An SSE comment: keeps proxies from closing a silent stream; clients ignore it."""
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@dataclass(frozen=True, slots=True)
class StreamProblem:
    """Why a turn's stream ends without its answer, as the user is told it."""

    message: str
    allow_retry: bool = True


BUSY_THREAD = StreamProblem(
    "A reply is still being written in this conversation. "
    "Wait for it to finish (or stop it), then send your message again."
)
NO_WORKER = StreamProblem("The assistant is not available right now. Please try again in a moment.")
"""No live worker at admission, or none took the turn in time: the same thing to the user."""
QUEUE_FULL = StreamProblem("The assistant is very busy right now. Please try again in a moment.")
DRAINING = StreamProblem("This server is restarting. Please try again in a moment.")
QUEUE_UNREACHABLE = StreamProblem(
    "The assistant cannot be reached right now. Please try again shortly."
)
WORKER_LOST = StreamProblem("The assistant stopped responding. Please try again.")
CONNECTION_LOST = StreamProblem("The connection to the assistant was lost. Please try again.")
GAP = StreamProblem(
    "Part of the answer was lost on the way. Reload the conversation to see it.", allow_retry=False
)
CANCELLED_MESSAGE = "This answer was stopped before it finished."
"""The notice that ends the stream of a cancelled turn, so a client re-joining it can tell
"stopped" from "finished"."""


def sse_data(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def sse_event(event_id: str, payload: bytes) -> bytes:
    return b"id: " + event_id.encode() + b"\n" + sse_data(payload)


def error_frame(problem: StreamProblem) -> bytes:
    """The SSE frame of a ChatKit error event telling the user about `problem`."""
    return sse_data(error_event(problem.message, allow_retry=problem.allow_retry))


def cancelled_frame() -> bytes:
    """The SSE frame of the notice that a turn was cancelled."""
    return sse_data(notice_event(CANCELLED_MESSAGE))
