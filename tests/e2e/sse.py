"""Reading a live SSE response message by message, with ids and comments, and checking that what a
client was shown is what was stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.chatkit_client.client import ChatKitClient


@dataclass(frozen=True)
class SseMessage:
    event_id: str | None
    data: dict[str, Any] | None
    """The ChatKit event; None for a comment (keepalive)."""

    @property
    def type(self) -> str:
        return self.data["type"] if self.data is not None else "comment"


def sse_messages(lines: Iterator[str]) -> Iterator[SseMessage]:
    event_id: str | None = None
    data: dict[str, Any] | None = None
    comment = False
    for line in lines:
        if line == "":
            if data is not None or comment:
                yield SseMessage(event_id, data)
            event_id, data, comment = None, None, False
        elif line.startswith(":"):
            comment = True
        elif line.startswith("id: "):
            event_id = line[4:]
        elif line.startswith("data: "):
            data = json.loads(line[6:])


def read_until(messages: Iterator[SseMessage], count: int, event_type: str) -> list[SseMessage]:
    """Messages up to and including the `count`-th one of `event_type`."""
    seen: list[SseMessage] = []
    for message in messages:
        seen.append(message)
        if sum(m.type == event_type for m in seen) == count:
            return seen
    raise AssertionError(f"stream ended before {count} {event_type}: {[m.type for m in seen]}")


def thread_id_of(messages: list[SseMessage]) -> str:
    created = [m.data for m in messages if m.data and m.type == "thread.created"]
    assert created, [m.type for m in messages]
    thread_id: str = created[0]["thread"]["id"]
    return thread_id


def done_items(messages: list[SseMessage]) -> list[dict[str, Any]]:
    return [m.data["item"] for m in messages if m.data and m.type == "thread.item.done"]


def text_of(item: dict[str, Any]) -> str:
    return "".join(part.get("text", "") for part in item.get("content", []))


def stored_items(client: ChatKitClient, thread_id: str) -> list[dict[str, Any]]:
    thread = client.request({"type": "threads.get_by_id", "params": {"thread_id": thread_id}})
    assert thread.status_code == 200, thread.text
    items: list[dict[str, Any]] = thread.json()["items"]["data"]
    return items


def assert_stored_as_shown(
    client: ChatKitClient, thread_id: str, shown: list[SseMessage], *, before: int = 0
) -> list[dict[str, Any]]:
    """The thread holds exactly the items the client saw completed (after the first `before`
    stored items), with the same content: nothing lost, nothing the client was not shown."""
    stored = stored_items(client, thread_id)[before:]
    seen = done_items(shown)
    assert [(i["id"], i["type"], text_of(i)) for i in stored] == [
        (i["id"], i["type"], text_of(i)) for i in seen
    ]
    return stored


def sse_from(raw_events: list[dict[str, Any]]) -> list[SseMessage]:
    """Events already parsed by `ChatKitClient.stream`, as messages (without their ids)."""
    return [SseMessage(None, event) for event in raw_events]
