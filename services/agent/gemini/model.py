"""The Agents SDK model for Gemini: the SDK's Chat Completions model, with our completions seam."""

from __future__ import annotations

from typing import Any

from agents import OpenAIChatCompletionsModel
from openai import AsyncOpenAI

from services.agent.gemini.completions import GeminiCompletions


class _Chat:
    def __init__(self, completions: GeminiCompletions) -> None:
        self.completions = completions


class _GeminiClientView:
    """What the SDK calls for a request: our `chat.completions`, the real client for the rest."""

    def __init__(self, client: AsyncOpenAI, completions: GeminiCompletions) -> None:
        self._client = client
        self.chat = _Chat(completions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


class GeminiChatCompletionsModel(OpenAIChatCompletionsModel):
    def __init__(self, model: str, client: AsyncOpenAI, completions: GeminiCompletions) -> None:
        super().__init__(model=model, openai_client=client)
        self._view = _GeminiClientView(client, completions)

    def _get_client(self) -> AsyncOpenAI:
        # The SDK only calls `chat.completions.create` (and reads `base_url`) on what this returns.
        return self._view  # type: ignore[return-value]
