"""Who and what a log line is about: the turn, the thread and the user of the running task.

Kept in contextvars, so every line logged while a request or a turn is handled carries them without
passing ids through every call; tasks started from there inherit them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

turn_id_var: ContextVar[str | None] = ContextVar("taskchat_turn_id", default=None)
thread_id_var: ContextVar[str | None] = ContextVar("taskchat_thread_id", default=None)
user_id_var: ContextVar[str | None] = ContextVar("taskchat_user_id", default=None)


class _PseudonymKey:
    """The HMAC key of log pseudonyms: `LOG_PSEUDONYM_SECRET`, or random for this process.

    A plain hash of a user id (often an email address) can be reversed by hashing candidate
    addresses; with a secret key it cannot, by anyone who reads the logs but not the key.
    """

    value: bytes | None = None


def configure_pseudonyms(secret: str | None) -> None:
    """Called once per process, with the logging configuration."""
    _PseudonymKey.value = secret.encode() if secret else secrets.token_bytes(32)


def hash_user_id(user_id: str) -> str:
    """A stable pseudonym for logs: lines of one user can be grouped, the id itself is not shown
    and cannot be recovered without the key."""
    if _PseudonymKey.value is None:
        configure_pseudonyms(None)
    assert _PseudonymKey.value is not None
    return hmac.new(_PseudonymKey.value, user_id.encode(), hashlib.sha256).hexdigest()[:16]


def bind_log_context(
    *, turn_id: str | None = None, thread_id: str | None = None, user_id: str | None = None
) -> None:
    """Set the given ids for the rest of the current task (and tasks it starts)."""
    if turn_id is not None:
        turn_id_var.set(turn_id)
    if thread_id is not None:
        thread_id_var.set(thread_id)
    if user_id is not None:
        user_id_var.set(user_id)


@contextmanager
def log_context(
    *, turn_id: str | None = None, thread_id: str | None = None, user_id: str | None = None
) -> Iterator[None]:
    """The given ids for the duration of the block only."""
    tokens: list[tuple[ContextVar[str | None], Token[str | None]]] = []
    for var, value in ((turn_id_var, turn_id), (thread_id_var, thread_id), (user_id_var, user_id)):
        if value is not None:
            tokens.append((var, var.set(value)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def current_log_fields() -> dict[str, str]:
    """The ids set for the current task, the user's hashed."""
    fields: dict[str, str] = {}
    if (turn_id := turn_id_var.get()) is not None:
        fields["turn_id"] = turn_id
    if (thread_id := thread_id_var.get()) is not None:
        fields["thread_id"] = thread_id
    if (user_id := user_id_var.get()) is not None:
        fields["user"] = hash_user_id(user_id)
    return fields
