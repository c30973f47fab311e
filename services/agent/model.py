"""The models a turn can use: Gemini over its OpenAI-compatible endpoint, one per allowed name."""

from __future__ import annotations

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion
from redis.asyncio import Redis

from services.agent.gemini.completions import GeminiCompletions
from services.agent.gemini.model import GeminiChatCompletionsModel
from services.agent.gemini.signatures import SignatureScope, SignatureStore
from shared.settings import GeminiSettings


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
        """One short non-streaming answer from the default model (titles and the like)."""
        response = await self._completions.create(
            model=self.settings.model,
            messages=messages,
            max_tokens=max_tokens,
            timeout=timeout_s,
        )
        if not isinstance(response, ChatCompletion):
            raise TypeError("a non-streaming request returned a stream")
        return response

    async def close(self) -> None:
        await self._client.close()
