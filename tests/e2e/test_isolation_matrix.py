"""One user never reaches another's data: every ChatKit request type and the attachment routes,
each with the user's own ids, another user's ids and unknown ids. Another user's thread, item
or attachment answers exactly like one that does not exist: 404 with the same body (ids aside).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import user_input
from tests.e2e.conftest import System
from tests.images import tiny_png

pytestmark = pytest.mark.e2e

PNG = tiny_png()


@dataclass(frozen=True)
class Ids:
    thread: str
    item: str
    attachment: str

    def normalise(self, text: str) -> str:
        for value in (self.thread, self.item, self.attachment):
            text = text.replace(value, "<id>")
        return text


class Owner:
    """A user with a thread (one exchange) and an uploaded image attachment."""

    def __init__(self, system: System) -> None:
        self.user = f"owner-{uuid.uuid4().hex[:8]}"
        self.headers = {"Authorization": f"Bearer {system.token(self.user)}"}
        self.client = ChatKitClient(system.gateway_url, system.token(self.user))
        turn = self.client.create_thread("add task isolation check")
        assert not turn.of_type("error"), turn.raw_events
        items = self.items(turn.thread_id)
        created = self.client.request(
            {
                "type": "attachments.create",
                "params": {"name": "dot.png", "size": len(PNG), "mime_type": "image/png"},
            }
        ).json()
        uploaded = httpx.post(
            created["upload_descriptor"]["url"],
            files={"file": ("dot.png", PNG, "image/png")},
            headers=self.headers,
        )
        assert uploaded.status_code == 200, uploaded.text
        user_message = next(i for i in items if i["type"] == "user_message")
        self.ids = Ids(turn.thread_id, user_message["id"], created["id"])

    def items(self, thread_id: str) -> list[dict[str, Any]]:
        response = self.client.request(
            {"type": "items.list", "params": {"thread_id": thread_id, "limit": 100}}
        )
        assert response.status_code == 200
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def snapshot(self) -> tuple[Any, ...]:
        """What another user must not be able to change."""
        thread = self.client.request(
            {"type": "threads.get_by_id", "params": {"thread_id": self.ids.thread}}
        ).json()
        preview = httpx.get(
            f"{self.client.http.base_url}/attachments/{self.ids.attachment}/preview",
            headers=self.headers,
        )
        return (thread["title"], self.items(self.ids.thread), preview.status_code, preview.content)


def unknown_ids() -> Ids:
    hex_ = uuid.uuid4().hex
    return Ids(f"thr_{hex_}", f"msg_{hex_}", f"atc_{hex_}")


ACTION = {"type": "task.complete", "payload": {"task_id": 1}}

# request type -> the request for a given set of ids
REQUESTS: dict[str, Callable[[Ids], dict[str, Any]]] = {
    "threads.get_by_id": lambda i: {"thread_id": i.thread},
    "items.list": lambda i: {"thread_id": i.thread},
    "threads.update": lambda i: {"thread_id": i.thread, "title": "taken over"},
    "threads.delete": lambda i: {"thread_id": i.thread},
    "items.feedback": lambda i: {"thread_id": i.thread, "item_ids": [i.item], "kind": "negative"},
    "threads.add_user_message": lambda i: {"thread_id": i.thread, "input": user_input("hi")},
    "threads.retry_after_item": lambda i: {"thread_id": i.thread, "item_id": i.item},
    "threads.add_client_tool_output": lambda i: {"thread_id": i.thread, "result": {"x": 1}},
    "threads.add_structured_input": lambda i: {
        "thread_id": i.thread,
        "item_id": i.item,
        "input": {"status": "answered", "answers": {}},
    },
    "threads.custom_action": lambda i: {"thread_id": i.thread, "item_id": None, "action": ACTION},
    "threads.sync_custom_action": lambda i: {
        "thread_id": i.thread,
        "item_id": i.item,
        "action": ACTION,
    },
    "attachments.delete": lambda i: {"attachment_id": i.attachment},
    "threads.create (with the attachment)": lambda i: {
        "input": {**user_input("look"), "attachments": [i.attachment]}
    },
}


def chatkit_request(name: str, ids: Ids) -> dict[str, Any]:
    return {"type": name.split(" ")[0], "params": REQUESTS[name](ids)}


def post(client: ChatKitClient, request: dict[str, Any]) -> httpx.Response:
    return client.http.post("/chatkit", json=request)


@pytest.fixture
def owner(system: System) -> Iterator[Owner]:
    created = Owner(system)
    try:
        yield created
    finally:
        created.client.close()


@pytest.fixture
def intruder(system: System) -> Iterator[ChatKitClient]:
    client = ChatKitClient(system.gateway_url, system.token(f"intruder-{uuid.uuid4().hex[:8]}"))
    try:
        yield client
    finally:
        client.close()


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_chatkit_request_matrix(name: str, owner: Owner, intruder: ChatKitClient) -> None:
    before = owner.snapshot()
    unknown = unknown_ids()
    foreign = post(intruder, chatkit_request(name, owner.ids))
    missing = post(intruder, chatkit_request(name, unknown))
    assert foreign.status_code == 404, foreign.text
    assert missing.status_code == 404, missing.text
    assert owner.ids.normalise(foreign.text) == unknown.normalise(missing.text)
    assert "X-Turn-Id" not in foreign.headers  # nothing was queued
    assert owner.snapshot() == before
    # The owner's own ids work (whatever the request's own outcome, never a 404).
    mine = post(owner.client, chatkit_request(name, owner.ids))
    assert mine.status_code in (200, 400), mine.text


def test_threads_list_shows_only_the_users_threads(owner: Owner, intruder: ChatKitClient) -> None:
    listed = post(intruder, {"type": "threads.list", "params": {}})
    assert listed.status_code == 200
    assert owner.ids.thread not in listed.text
    # Another user's thread as a page cursor is as unknown as a made-up one.
    foreign = post(intruder, {"type": "threads.list", "params": {"after": owner.ids.thread}})
    unknown = unknown_ids()
    missing = post(intruder, {"type": "threads.list", "params": {"after": unknown.thread}})
    assert foreign.status_code == missing.status_code == 404
    assert owner.ids.normalise(foreign.text) == unknown.normalise(missing.text)


def test_another_users_item_as_a_cursor_in_my_thread(owner: Owner, intruder: ChatKitClient) -> None:
    mine = intruder.create_thread("my own thread")
    assert mine.status_code == 200
    unknown = unknown_ids()

    def page_after(item_id: str) -> httpx.Response:
        return post(
            intruder,
            {"type": "items.list", "params": {"thread_id": mine.thread_id, "after": item_id}},
        )

    foreign, missing = page_after(owner.ids.item), page_after(unknown.item)
    assert foreign.status_code == missing.status_code == 404
    assert owner.ids.normalise(foreign.text) == unknown.normalise(missing.text)


@pytest.mark.parametrize(
    ("method", "route"),
    [("POST", "/attachments/{}/upload"), ("GET", "/attachments/{}/preview")],
)
def test_attachment_routes(
    system: System, owner: Owner, intruder: ChatKitClient, method: str, route: str
) -> None:
    unknown = unknown_ids()

    def call(client: httpx.Client | ChatKitClient, attachment_id: str) -> httpx.Response:
        http = client.http if isinstance(client, ChatKitClient) else client
        files = {"file": ("dot.png", PNG, "image/png")} if method == "POST" else None
        return http.request(method, route.format(attachment_id), files=files)

    foreign, missing = call(intruder, owner.ids.attachment), call(intruder, unknown.attachment)
    assert foreign.status_code == missing.status_code == 404
    assert owner.ids.normalise(foreign.text) == unknown.normalise(missing.text)
    # The owner reaches it (a second upload is refused as such, not as missing).
    assert call(owner.client, owner.ids.attachment).status_code == (200 if method == "GET" else 400)
