"""The ChatKit request bodies a client sends for a user's message."""

from __future__ import annotations

from typing import Any


def chatkit_endpoint(base_url: str) -> str:
    return base_url.rstrip("/") + "/chatkit"


def user_input(text: str) -> dict[str, Any]:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": {},
    }


def threads_create(text: str) -> dict[str, Any]:
    return {"type": "threads.create", "params": {"input": user_input(text)}}


def add_user_message(thread_id: str, text: str) -> dict[str, Any]:
    return {
        "type": "threads.add_user_message",
        "params": {"thread_id": thread_id, "input": user_input(text)},
    }


def build_request(text: str, thread_id: str | None) -> dict[str, Any]:
    """The request for one user line: start a thread, or add to an existing one."""
    return threads_create(text) if thread_id is None else add_user_message(thread_id, text)
