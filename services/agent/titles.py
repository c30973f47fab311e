"""A short title for a new thread, made by a cheap model call after its first exchange."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from chatkit.types import UserMessageItem, UserMessageTextContent

from services.agent.model import GeminiModels

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the user "
    "message below. Reply with the title only, without quotes or punctuation at the end."
)
MAX_TITLE_CHARS = 60


def fallback_title(message: UserMessageItem) -> str:
    """The first words of the message: what the user sees when the model call fails."""
    text = " ".join(
        " ".join(part.text.split())
        for part in message.content
        if isinstance(part, UserMessageTextContent)
    )
    if len(text) <= MAX_TITLE_CHARS:
        return text or "New conversation"
    return text[: MAX_TITLE_CHARS - 3].rsplit(" ", 1)[0] + "..."


def _clean(title: str) -> str:
    title = " ".join(title.split()).strip("\"'`*# ").rstrip(".")
    return title[:MAX_TITLE_CHARS]


@dataclass(frozen=True, slots=True)
class Title:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    requests: int = 0


async def make_title(models: GeminiModels, message: UserMessageItem) -> Title:
    fallback = fallback_title(message)
    try:
        response = await models.complete_text(
            [
                {"role": "system", "content": TITLE_PROMPT},
                {"role": "user", "content": fallback},
            ],
            max_tokens=24,
        )
    except Exception as exc:  # a title is a nicety: any failure falls back, never fails the turn
        logger.warning("title generation failed, using the message's first words: %r", exc)
        return Title(fallback)
    text = _clean(response.choices[0].message.content or "") if response.choices else ""
    usage = response.usage
    return Title(
        text or fallback,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
        requests=1,
    )
