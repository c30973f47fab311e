"""HTTP side of `taskchat chat`: one ChatKit request per user line, shown as it streams."""

from __future__ import annotations

import json
from typing import Any, TextIO

import httpx

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import build_request, chatkit_endpoint
from services.chatkit_client.sse import iter_sse_data
from services.cli.chat.render import ChatRenderer

__all__ = ["TIMEOUT", "ChatSession", "build_request", "chatkit_endpoint"]

# A turn streams for as long as the model and tools take; the gateway sends keep-alive comments,
# so a long read timeout only trips when the connection is really dead.
TIMEOUT = httpx.Timeout(connect=5.0, read=330.0, write=10.0, pool=5.0)


class ChatSession:
    """Sends lines to the gateway and writes the rendered response stream to `out`."""

    def __init__(
        self, client: ChatKitClient, *, base_url: str, out: TextIO, thread_id: str | None = None
    ) -> None:
        self._client = client
        self._endpoint = chatkit_endpoint(base_url)
        self._out = out
        self._renderer = ChatRenderer()
        self.thread_id = thread_id

    def send(self, text: str) -> None:
        body = build_request(text, self.thread_id)
        try:
            with self._client.open_stream(body) as response:
                if response.status_code != 200:
                    response.read()
                    self._write(f"! HTTP {response.status_code}: {_error_text(response)}\n")
                    return
                for data in iter_sse_data(response.iter_lines()):
                    self._write(self._renderer.render(_decode(data)))
        except httpx.HTTPError as exc:
            self._write(self._renderer.finish())
            self._write(f"! cannot talk to the gateway at {self._endpoint}: {exc}\n")
            return
        self._write(self._renderer.finish())
        # Only a successful threads.create reveals the id; later lines go to that thread.
        if self._renderer.thread_id is not None:
            self.thread_id = self._renderer.thread_id

    def _write(self, text: str) -> None:
        if text:
            self._out.write(text)
            self._out.flush()


def _decode(data: str) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError:
        return {"type": "error", "message": f"unreadable event from the gateway: {data[:200]}"}
    return event if isinstance(event, dict) else {}


def _error_text(response: httpx.Response) -> str:
    """The gateway's error message when it sent JSON, else the (truncated) body."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(payload, dict):
        for key in ("detail", "message", "error"):
            if isinstance(payload.get(key), str):
                return str(payload[key])
    return json.dumps(payload)[:500]
