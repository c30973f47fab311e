"""Every Redis name TaskChat uses (turn pipeline and quotas), in one place."""

from __future__ import annotations

PREFIX = "taskchat"

TURN_QUEUE = f"{PREFIX}:turn-queue"
"""List of the turns waiting for a worker (each an encoded `Turn`): gateways push on the left,
workers pop from the right, so the oldest goes first and each is taken by exactly one worker.
(Not arq's sorted set of job ids with each job under its own key: that format cost a turn 19 Redis
commands between gateway and worker; this one costs two.)"""

RUN_TURN_JOB = "run_turn"
"""Name of the worker's job function that runs one turn."""

TURN_EVENTS_CHANNEL = f"{PREFIX}:turns:events"
"""Pub/sub channel on which a worker publishes what it appended to a turn's events (`TurnNews`)
when the turn names no channel of its own (see `gateway_news_channel`): every gateway listens;
the one relaying that turn passes the entries on, the others drop them."""


def gateway_news_channel(gateway_id: str) -> str:
    """Pub/sub channel of one gateway process: the workers of the turns it relays publish their
    entries there (`Turn.news_channel`), so each gateway receives only its own turns' events."""
    return f"{PREFIX}:turns:events:{gateway_id}"


TURN_CANCEL_CHANNEL = f"{PREFIX}:turns:cancel"
"""Pub/sub channel carrying ids of turns whose client went away."""

EVENT_LOG_MAX_LEN = 20_000
"""Cap on entries in one turn's event log (a very long answer is about 2,000 deltas)."""
EVENT_LOG_TTL_S = 300
"""A turn's events stay readable at least this long after its end (a client reconnecting with
`Last-Event-ID` re-joins within it), then expire. The expiry is set once, by the turn's first
write, to the longest a turn can live plus this (see `TurnEventWriter`), so a log whose worker
died expires on its own too."""
CANCEL_MARK_TTL_S = 3_600


def turn_events(turn_id: str) -> str:
    """Redis Stream with the turn's events in order: one producer (the worker), any readers."""
    return f"{PREFIX}:turn:{turn_id}:events"


def turn_cancelled(turn_id: str) -> str:
    """Marks a turn its client abandoned, for a worker that picks it up after the fact."""
    return f"{PREFIX}:turn:{turn_id}:cancelled"


def turn_owner(turn_id: str) -> str:
    """The user id of the turn's author: only they may re-join its stream."""
    return f"{PREFIX}:turn:{turn_id}:owner"


def turn_rider(turn_id: str) -> str:
    """Held (value: the re-join's slot member) by the one re-join that streams on the turn's own
    stream slot rather than one of its own."""
    return f"{PREFIX}:turn:{turn_id}:rider"


def thread_turn(thread_id: str) -> str:
    """Held (value: the turn id) while a turn of the thread is queued or running: one at a time."""
    return f"{PREFIX}:thread:{thread_id}:turn"


# --- quotas (shared by every gateway replica, so they live in Redis) -------------------------

DAILY_QUOTA_TTL_S = 2 * 86_400
"""A day's message counter outlives its day a little, so no replica can recreate it at zero."""


def daily_messages(user_id: str, day: str) -> str:
    """Counter of the turns `user_id` started on UTC date `day` (YYYY-MM-DD)."""
    return f"{PREFIX}:quota:messages:{day}:{user_id}"


def daily_transcriptions(user_id: str, day: str) -> str:
    """Counter of the clips `user_id` dictated on UTC date `day` (YYYY-MM-DD)."""
    return f"{PREFIX}:quota:transcriptions:{day}:{user_id}"


def open_streams(user_id: str) -> str:
    """Sorted set of the user's open streams: turn id scored by its lease's expiry (ms)."""
    return f"{PREFIX}:quota:streams:{user_id}"


def anonymous_requests(client_ip: str, window: int) -> str:
    """Requests without a valid token from `client_ip` in minute `window` (unix time // 60)."""
    return f"{PREFIX}:ratelimit:anonymous:{window}:{client_ip}"
