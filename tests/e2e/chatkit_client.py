"""The ChatKit client the tests use: the project's one client (services/chatkit_client)."""

from __future__ import annotations

from services.chatkit_client.client import STREAM_EVENT, ChatKitClient, StreamedTurn
from services.chatkit_client.requests import add_user_message, threads_create, user_input

__all__ = [
    "STREAM_EVENT",
    "ChatKitClient",
    "StreamedTurn",
    "add_user_message",
    "threads_create",
    "user_input",
]
