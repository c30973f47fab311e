"""Pure validation of task input."""

from __future__ import annotations

import pytest

from shared.errors import InvalidInputError
from shared.tasks.validation import (
    MAX_TASK_ID,
    check_status,
    clean_description,
    clean_task_ids,
    clean_title,
    is_storable_id,
)


def test_title_is_stripped() -> None:
    assert clean_title("  Buy milk \n") == "Buy milk"


@pytest.mark.parametrize("title", ["", "   ", "\t\n"])
def test_blank_title_is_rejected(title: str) -> None:
    with pytest.raises(InvalidInputError, match="cannot be empty"):
        clean_title(title)


def test_title_length_limit_counts_characters_after_stripping() -> None:
    assert clean_title(" " + "é" * 255 + " ") == "é" * 255
    with pytest.raises(InvalidInputError, match="at most 255 characters \\(got 256\\)"):
        clean_title("x" * 256)


def test_description_rules() -> None:
    assert clean_description(None) is None
    assert clean_description("") is None
    assert clean_description("   ") is None
    assert clean_description(" 2 litres ") == "2 litres"
    assert clean_description("d" * 2000) == "d" * 2000
    with pytest.raises(InvalidInputError, match="at most 2000 characters"):
        clean_description("d" * 2001)


def test_status() -> None:
    assert check_status("pending") == "pending"
    with pytest.raises(InvalidInputError, match="Status must be one of all, pending, completed"):
        check_status("done")


def test_task_ids_are_deduplicated_in_order_and_bounded() -> None:
    assert clean_task_ids([3, 1, 3, 2, 1]) == [3, 1, 2]
    assert len(clean_task_ids(range(1, 101))) == 100
    with pytest.raises(InvalidInputError, match="at least one"):
        clean_task_ids([])
    with pytest.raises(InvalidInputError, match="At most 100"):
        clean_task_ids(range(1, 102))


def test_storable_ids() -> None:
    assert is_storable_id(1)
    assert is_storable_id(MAX_TASK_ID)
    assert not is_storable_id(0)
    assert not is_storable_id(-5)
    assert not is_storable_id(MAX_TASK_ID + 1)
