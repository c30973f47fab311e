"""A synchronous ChatKit client: posts a request, reads the SSE answer to its end (tests, CLI)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from chatkit.types import ThreadStreamEvent
from pydantic import TypeAdapter

from services.chatkit_client.requests import add_user_message, threads_create, user_input
from services.chatkit_client.sse import iter_sse_data

__all__ = ["STREAM_EVENT", "ChatKitClient", "StreamedTurn", "threads_create", "user_input"]

STREAM_EVENT: TypeAdapter[ThreadStreamEvent] = TypeAdapter(ThreadStreamEvent)


@dataclass
class StreamedTurn:
    status_code: int
    headers: httpx.Headers
    raw_events: list[dict[str, Any]]
    events: list[ThreadStreamEvent]

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.raw_events if e["type"] == event_type]

    @property
    def thread_id(self) -> str:
        created = self.of_type("thread.created")
        assert created, "no thread.created event"
        thread_id: str = created[0]["thread"]["id"]
        return thread_id

    def assistant_text(self) -> str:
        parts = []
        for event in self.of_type("thread.item.done"):
            if event["item"]["type"] == "assistant_message":
                parts.append("".join(c["text"] for c in event["item"]["content"]))
        return "\n".join(parts)

    def done_items(self) -> list[dict[str, Any]]:
        return [e["item"] for e in self.of_type("thread.item.done")]


class ChatKitClient:
    """ChatKit requests to one gateway as one user (a bearer token)."""

    def __init__(self, base_url: str, token: str, *, timeout_s: float | httpx.Timeout = 30) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )

    def close(self) -> None:
        self.http.close()

    def stream(self, request: dict[str, Any]) -> StreamedTurn:
        """The whole answer, its events parsed and validated against chatkit's types."""
        raw_events: list[dict[str, Any]] = []
        with self.open_stream(request) as response:
            if response.status_code != 200:
                response.read()
                return StreamedTurn(response.status_code, response.headers, [], [])
            raw_events = [json.loads(data) for data in iter_sse_data(response.iter_lines())]
        events = [STREAM_EVENT.validate_python(e) for e in raw_events]
        return StreamedTurn(response.status_code, response.headers, raw_events, events)

    @contextmanager
    def open_stream(self, request: dict[str, Any]) -> Iterator[httpx.Response]:
        """The response, unread: for a client that shows the turn as it streams
        (`iter_sse_data(response.iter_lines())` gives each event's data as it arrives)."""
        with self.http.stream("POST", "/chatkit", json=request) as response:
            yield response

    def request(self, request: dict[str, Any]) -> httpx.Response:
        return self.http.post("/chatkit", json=request)

    def create_thread(self, text: str) -> StreamedTurn:
        return self.stream(threads_create(text))

    def add_message(self, thread_id: str, text: str) -> StreamedTurn:
        return self.stream(add_user_message(thread_id, text))
