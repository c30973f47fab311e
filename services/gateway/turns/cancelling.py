"""Cancelling a turn on behalf of its author (the client's stop, or its departure with
`ON_DISCONNECT=cancel`)."""

from __future__ import annotations

from shared.errors import NotFoundError
from shared.turns.queue import TurnQueue

NO_SUCH_TURN = "No such turn, or its events have expired."


async def cancel_turn(queue: TurnQueue, turn_id: str, user_id: str) -> None:
    """Cancel `user_id`'s turn `turn_id`: whichever worker holds it (or picks it up) stops it,
    keeping what was streamed, and its stream ends with a notice that it was cancelled.
    `NotFoundError` for a turn that is not the user's, or whose events have expired (the same
    answer, so turn ids cannot be probed). Cancelling a turn that has ended changes nothing."""
    origin = await queue.origin(turn_id)
    if origin is None or origin.user_id != user_id:
        raise NotFoundError(NO_SUCH_TURN)
    await queue.cancel(turn_id)
