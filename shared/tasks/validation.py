"""Pure checks on task input; messages are shown to the user (and to the model) as they are."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal, TypeGuard

from shared.errors import InvalidInputError

TITLE_MAX_CHARS: Final = 255
DESCRIPTION_MAX_CHARS: Final = 2000
BULK_MAX_IDS: Final = 100
MAX_TASK_ID: Final = 2**63 - 1
"""Largest `bigint`; larger ids cannot exist and must not reach the driver (it would overflow)."""

LIST_MAX_TASKS: Final = 50
"""Most tasks one listing returns (newest first); a note says when more exist."""

TaskStatus = Literal["all", "pending", "completed"]
STATUSES: Final[tuple[TaskStatus, ...]] = ("all", "pending", "completed")
Priority = Literal["low", "medium", "high"]
PRIORITIES: Final[tuple[Priority, ...]] = ("low", "medium", "high")
ClearableField = Literal["description", "due_date", "priority"]
"""Optional task fields an update can empty."""


def check_no_nul(text: str, what: str) -> str:
    """`text` if it has no NUL character (PostgreSQL cannot store one in a text column)."""
    if "\x00" in text:
        raise InvalidInputError(f"A task {what} cannot contain NUL (\\u0000) characters.")
    return text


def clean_title(title: str) -> str:
    """The title without surrounding whitespace; 1 to 255 characters."""
    cleaned = check_no_nul(title.strip(), "title")
    if not cleaned:
        raise InvalidInputError("A task title cannot be empty.")
    if len(cleaned) > TITLE_MAX_CHARS:
        raise InvalidInputError(
            f"A task title can be at most {TITLE_MAX_CHARS} characters (got {len(cleaned)})."
        )
    return cleaned


def clean_description(description: str | None) -> str | None:
    """The description without surrounding whitespace, at most 2000 characters; blank -> None."""
    if description is None:
        return None
    cleaned = check_no_nul(description.strip(), "description")
    if not cleaned:
        return None
    if len(cleaned) > DESCRIPTION_MAX_CHARS:
        raise InvalidInputError(
            f"A task description can be at most {DESCRIPTION_MAX_CHARS} characters"
            f" (got {len(cleaned)})."
        )
    return cleaned


def check_status(status: str) -> TaskStatus:
    """`status` if it is one of "all", "pending", "completed"."""
    if not _is_status(status):
        raise InvalidInputError(f"Status must be one of {', '.join(STATUSES)} (got {status!r}).")
    return status


def _is_status(status: str) -> TypeGuard[TaskStatus]:
    return status in STATUSES


def is_storable_id(task_id: int) -> bool:
    """Whether a task could have this id (ids are positive bigints)."""
    return 1 <= task_id <= MAX_TASK_ID


def clean_task_ids(task_ids: Iterable[int]) -> list[int]:
    """The ids without repeats, in the given order; 1 to 100 of them."""
    unique = list(dict.fromkeys(task_ids))
    if not unique:
        raise InvalidInputError("Give at least one task id.")
    if len(unique) > BULK_MAX_IDS:
        raise InvalidInputError(
            f"At most {BULK_MAX_IDS} tasks can be changed at once (got {len(unique)})."
        )
    return unique


def check_priority(priority: str | None) -> Priority | None:
    """`priority` if it is None or one of "low", "medium", "high"."""
    if priority is None:
        return None
    if not _is_priority(priority):
        raise InvalidInputError(
            f"Priority must be one of {', '.join(PRIORITIES)} (got {priority!r})."
        )
    return priority


def _is_priority(priority: str) -> TypeGuard[Priority]:
    return priority in PRIORITIES
