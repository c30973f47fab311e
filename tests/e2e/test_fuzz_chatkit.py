"""Property-based fuzzing of `/chatkit` on a running gateway: malformed and hostile bodies (wrong
types, huge strings, deep nesting, unknown fields, invalid UTF-8, NUL characters) get a 4xx JSON
answer, never a 500, and nothing is written or queued."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.chatkit_client.requests import user_input
from tests.e2e.conftest import System
from tests.e2e.seed import fetch_value

pytestmark = pytest.mark.e2e

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run: a failure here is reproducible
)

REQUEST_TYPES = [
    "threads.create",
    "threads.add_user_message",
    "threads.add_client_tool_output",
    "threads.add_structured_input",
    "threads.retry_after_item",
    "threads.custom_action",
    "threads.sync_custom_action",
    "threads.get_by_id",
    "threads.list",
    "threads.update",
    "threads.delete",
    "items.list",
    "items.feedback",
    "attachments.create",
    "attachments.delete",
    "input.transcribe",
]
OWNED_TABLES = ("threads", "thread_items", "attachments", "feedback", "tasks", "turn_usage")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


@st.composite
def hostile_params(draw: st.DrawFn) -> dict[str, Any]:
    """`params` of a real request type with wrong types, unknown fields and odd values."""
    params = draw(st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=4))
    params.update(draw(st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=2)))
    return params


FIELDS = [
    "thread_id",
    "item_id",
    "item_ids",
    "input",
    "title",
    "after",
    "limit",
    "order",
    "attachment_id",
    "action",
    "result",
    "kind",
    "name",
    "size",
    "mime_type",
    "audio_base64",
]


@st.composite
def hostile_message(draw: st.DrawFn) -> dict[str, Any]:
    """A user message that parses as ChatKit but must still be refused: too long, NUL, or a
    content part of the wrong shape."""
    text = draw(
        st.sampled_from(
            [
                "x" * 9000,
                "nul \u0000 in the middle",
                "\u0000",
            ]
        )
    )
    kind = draw(st.sampled_from(["threads.create", "threads.add_user_message"]))
    params: dict[str, Any] = {"input": user_input(text)}
    if kind == "threads.add_user_message":
        params["thread_id"] = f"thr_{uuid.uuid4().hex}"
    if draw(st.booleans()):
        params["input"]["content"][0]["type"] = draw(st.sampled_from(["input_image", 7, None]))
    return {"type": kind, "params": params}


def raw(body: object) -> bytes:
    return json.dumps(body).encode()


hostile_bodies = st.one_of(
    json_values.map(raw),
    st.builds(
        lambda t, p: raw({"type": t, "params": p}), st.sampled_from(REQUEST_TYPES), hostile_params()
    ),
    hostile_message().map(raw),
    st.binary(max_size=200),  # arbitrary bytes, mostly invalid UTF-8
    st.builds(lambda n: b"[" * n + b"]" * n, st.integers(min_value=200, max_value=100_000)),
    st.builds(
        lambda n: b'{"a":' * n + b"1" + b"}" * n, st.integers(min_value=200, max_value=50_000)
    ),
    st.builds(
        lambda junk: (
            b'{"type": "threads.update", "params": {"thread_id": "thr_x", "title": "'
            + junk
            + b'"}}'
        ),
        st.sampled_from([b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\\ud800", b"\\u0000"]),
    ),
)


@pytest.fixture(scope="module")
def fuzzer(system: System) -> Iterator[tuple[httpx.Client, str]]:
    user = f"fuzz-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {system.token(user)}", "Content-Type": "application/json"}
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as http:
        yield http, user


def written(system: System, user: str) -> dict[str, object]:
    return {
        table: fetch_value(
            system.env["DATABASE_URL"], f"SELECT count(*) FROM {table} WHERE user_id = $1", user
        )
        for table in OWNED_TABLES
    }


def test_hostile_bodies_get_a_4xx_json_answer_and_write_nothing(
    system: System, fuzzer: tuple[httpx.Client, str]
) -> None:
    http, user = fuzzer
    before = written(system, user)
    # Title changes are writes too: the fuzzer has one thread of its own to aim at.
    seen_statuses: set[int] = set()

    @FUZZ
    @given(body=hostile_bodies)
    def post(body: bytes) -> None:
        response = http.post("/chatkit", content=body)
        seen_statuses.add(response.status_code)
        assert 400 <= response.status_code < 500, (body[:200], response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["detail"]
        assert "x-turn-id" not in response.headers

    post()
    assert written(system, user) == before
    assert seen_statuses >= {400}
