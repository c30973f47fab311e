"""A minimal ChatKit client for tests: posts requests and parses the SSE answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
from chatkit.types import ThreadStreamEvent
from pydantic import TypeAdapter

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


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def threads_create(text: str) -> dict[str, Any]:
    return {"type": "threads.create", "params": {"input": user_input(text)}}


class ChatKitClient:
    def __init__(self, base_url: str, token: str, *, timeout_s: float = 30) -> None:
        self.http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout_s,
        )

    def close(self) -> None:
        self.http.close()

    def stream(self, request: dict[str, Any]) -> StreamedTurn:
        raw_events: list[dict[str, Any]] = []
        with self.http.stream("POST", "/chatkit", json=request) as response:
            if response.status_code != 200:
                response.read()
                return StreamedTurn(response.status_code, response.headers, [], [])
            for line in response.iter_lines():
                if line.startswith("data: "):
                    raw_events.append(json.loads(line[len("data: ") :]))
        events = [STREAM_EVENT.validate_python(e) for e in raw_events]
        return StreamedTurn(response.status_code, response.headers, raw_events, events)

    def request(self, request: dict[str, Any]) -> httpx.Response:
        return self.http.post("/chatkit", json=request)

    def create_thread(self, text: str) -> StreamedTurn:
        return self.stream(threads_create(text))

    def add_message(self, thread_id: str, text: str) -> StreamedTurn:
        return self.stream(
            {
                "type": "threads.add_user_message",
                "params": {"thread_id": thread_id, "input": user_input(text)},
            }
        )
