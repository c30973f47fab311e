"""The one seam between the Agents SDK and Gemini: `chat.completions.create`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from services.agent.gemini.errors import ModelStreamCutError, from_openai_error
from services.agent.gemini.request import prepare_request
from services.agent.gemini.retry import retry_delay_s
from services.agent.gemini.signatures import SignatureStore
from services.agent.gemini.stream import normalize_stream
from services.agent.observability.metrics import record_model_error
from shared.settings import GeminiSettings

logger = logging.getLogger(__name__)


class GeminiCompletions:
    """Stands in for `client.chat.completions` in the SDK's model.

    Retries happen here, before the answer's first byte, so a retry never repeats text the user
    already saw; errors leave as `ModelError` with Gemini's own message.
    """

    def __init__(
        self, client: AsyncOpenAI, settings: GeminiSettings, signatures: SignatureStore
    ) -> None:
        self._client = client
        self._settings = settings
        self._signatures = signatures

    async def create(self, **kwargs: Any) -> ChatCompletion | AsyncIterator[ChatCompletionChunk]:
        request = await prepare_request(kwargs, self._settings, self._signatures)
        attempt = 0
        while True:
            try:
                response = await self._client.chat.completions.create(**request)
                break
            except openai.APIConnectionError:
                record_model_error("connection")
                raise
            except openai.APIStatusError as exc:
                record_model_error(exc.status_code)
                error = from_openai_error(exc)
                if not error.retryable or attempt >= self._settings.max_retries:
                    raise error from exc
                delay = retry_delay_s(
                    attempt,
                    exc.response.headers.get("retry-after"),
                    self._settings.retry_max_delay_s,
                )
                logger.warning("%s; retry %d in %.2fs", error, attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)
        if isinstance(response, ChatCompletion):
            return response
        return self._stream(response)

    async def _stream(
        self, stream: openai.AsyncStream[ChatCompletionChunk]
    ) -> AsyncIterator[ChatCompletionChunk]:
        try:
            async for chunk in normalize_stream(stream, self._signatures.save):
                yield chunk
        except ModelStreamCutError:
            record_model_error("stream_cut")
            raise
        finally:
            await stream.close()
