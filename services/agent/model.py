"""The model: an Agents SDK Chat Completions model over Gemini's OpenAI-compatible endpoint."""

from __future__ import annotations

from agents import OpenAIChatCompletionsModel
from openai import AsyncOpenAI

from shared.settings import GeminiSettings


def build_gemini_client(settings: GeminiSettings) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=settings.api_key,
        base_url=settings.base_url,
        timeout=settings.request_timeout_s,
    )


def build_model(settings: GeminiSettings, client: AsyncOpenAI) -> OpenAIChatCompletionsModel:
    return OpenAIChatCompletionsModel(model=settings.model, openai_client=client)
