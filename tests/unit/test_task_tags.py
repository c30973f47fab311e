"""Which task an @-mention names: only a plain, storable task id counts."""

from __future__ import annotations

from typing import Any

import pytest
from chatkit.types import UserMessageTagContent

from services.agent.task_tags import tagged_task_id


def tag(tag_id: str, data: dict[str, Any] | None = None) -> UserMessageTagContent:
    return UserMessageTagContent(id=tag_id, text="a task", data=data or {}, interactive=True)


def test_the_task_id_in_data_wins_over_the_entity_id() -> None:
    assert tagged_task_id(tag("7", {"task_id": "12"})) == 12


def test_the_entity_id_is_used_without_data() -> None:
    assert tagged_task_id(tag(" 42 ")) == 42


@pytest.mark.parametrize(
    "raw", ["", "abc", "12a", "-3", "0", "1.5", "\u0661\u0662", "9" * 30, "task:12"]
)
def test_anything_else_names_no_task(raw: str) -> None:
    assert tagged_task_id(tag(raw)) is None
    assert tagged_task_id(tag("1", {"task_id": raw})) is None
