"""Reading OpenAI chat-format messages, whose `content` is a string, a list of parts or null."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Message = Mapping[str, Any]


def content_text(content: Any) -> str:
    """The text of a message `content`: a string, or the `text` parts of a part list joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        ]
        return " ".join(texts)
    return ""


def has_image(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(part, Mapping) and part.get("type") == "image_url" for part in content
    )


def last_message_with_role(messages: Sequence[Message], role: str) -> Message | None:
    for message in reversed(messages):
        if message.get("role") == role:
            return message
    return None


def last_user_text(messages: Sequence[Message]) -> str | None:
    message = last_message_with_role(messages, "user")
    return None if message is None else content_text(message.get("content"))


def request_text_length(messages: Sequence[Message]) -> int:
    """Characters of text the request carries, the basis of the prompt token estimate."""
    total = 0
    for message in messages:
        total += len(content_text(message.get("content")))
        for call in message.get("tool_calls") or []:
            if isinstance(call, Mapping):
                function = call.get("function")
                if isinstance(function, Mapping):
                    total += len(str(function.get("name", ""))) + len(
                        str(function.get("arguments", ""))
                    )
    return total


def tool_names(tools: Any) -> frozenset[str]:
    """Names of the function tools offered in a request's `tools` list."""
    names: set[str] = set()
    if isinstance(tools, list):
        for tool in tools:
            function = tool.get("function") if isinstance(tool, Mapping) else None
            if isinstance(function, Mapping) and isinstance(function.get("name"), str):
                names.add(function["name"])
    return frozenset(names)


def tool_call_count(messages: Sequence[Message]) -> int:
    """Tool calls the assistant has made so far in the conversation."""
    return sum(
        len(message.get("tool_calls") or [])
        for message in messages
        if isinstance(message, Mapping) and message.get("role") == "assistant"
    )
