"""The models a turn can use: Gemini over its OpenAI-compatible endpoint, one per allowed name."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
from redis.asyncio import Redis

from services.agent.gemini.completions import GeminiCompletions
from services.agent.gemini.model import GeminiChatCompletionsModel
from services.agent.gemini.signatures import SignatureScope, SignatureStore
from shared.gemini_models import lightest_reasoning_effort, retirement_notice
from shared.settings import GeminiSettings

logger = logging.getLogger(__name__)

SIDE_CALL_THINKING_ROOM = 1024
"""Output tokens a side call (a title) may spend thinking, on top of its answer's."""


def warn_about_retiring_models(settings: GeminiSettings, today: dt.date) -> list[str]:
    """Log (and return) one line per configured model Google shuts down soon or already has.

    A warning, not a refusal: a shutdown date is Google's earliest, and a deployment must not
    stop starting on the day it passes."""
    notices = [n for m in settings.allowed_models if (n := retirement_notice(m, today))]
    for notice in notices:
        logger.warning("%s (GEMINI_MODEL / GEMINI_ALLOWED_MODELS)", notice)
    return notices


class GeminiModels:
    def __init__(self, settings: GeminiSettings, redis: Redis) -> None:
        self.settings = settings
        # Retries are ours (GeminiCompletions), so the client's own are off.
        self._client = AsyncOpenAI(
            api_key=settings.api_key,
            base_url=settings.base_url,
            timeout=settings.request_timeout_s,
            max_retries=0,
        )
        self._completions = GeminiCompletions(self._client, settings, SignatureStore(redis))
        self._models: dict[str, GeminiChatCompletionsModel] = {}

    def _name(self, name: str | None) -> str:
        # The gateway has checked the name against `GEMINI_ALLOWED_MODELS`; an unknown one
        # falls back to the default.
        if name is None or name not in self.settings.allowed_models:
            return self.settings.model
        return name

    def get(self, name: str | None = None) -> GeminiChatCompletionsModel:
        """The model called `name` (default: `GEMINI_MODEL`), outside any thread: it keeps no
        thought signatures. A turn uses `for_thread`."""
        name = self._name(name)
        if name not in self._models:
            self._models[name] = GeminiChatCompletionsModel(name, self._client, self._completions)
        return self._models[name]

    def for_thread(self, name: str | None, scope: SignatureScope) -> GeminiChatCompletionsModel:
        """The model for one turn of `scope`'s thread: its thought signatures are kept in, and
        restored from, that thread only. Cheap to make; one per turn."""
        return GeminiChatCompletionsModel(
            self._name(name), self._client, self._completions.for_thread(scope)
        )

    async def complete_text(
        self, messages: list[dict[str, str]], *, max_tokens: int, timeout_s: float = 10.0
    ) -> ChatCompletion:
        """One short non-streaming answer from the default model (titles and the like).

        Thinking tokens count against `max_tokens`: with thinking on, a few-word cap leaves no
        room for the answer (`finish_reason: "length"`, no text). So the call asks for the least
        thinking the model takes and gets `SIDE_CALL_THINKING_ROOM` tokens more than the answer
        needs, for a model that still thinks (or one we do not know)."""
        model = self.settings.model
        thinking: dict[str, Any] = {}
        if (effort := lightest_reasoning_effort(model)) is not None:
            thinking["reasoning_effort"] = effort
        response = await self._completions.create(
            model=model,
            messages=messages,
            max_tokens=max_tokens + SIDE_CALL_THINKING_ROOM,
            timeout=timeout_s,
            **thinking,
        )
        if not isinstance(response, ChatCompletion):
            raise TypeError("a non-streaming request returned a stream")
        return response

    async def close(self) -> None:
        await self._client.close()
