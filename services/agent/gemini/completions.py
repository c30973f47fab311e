"""The one seam between the Agents SDK and Gemini: `chat.completions.create`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import NOT_GIVEN, AsyncOpenAI, NotGiven, Omit
from openai._base_client import make_request_options  # what `create` itself uses
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from services.agent.gemini.chunk_stream import ChunkStream
from services.agent.gemini.empty_answer import without_empty_answers
from services.agent.gemini.errors import ModelStreamCutError, from_openai_error
from services.agent.gemini.request import prepare_request
from services.agent.gemini.retry import retry_delay_s
from services.agent.gemini.schema import GeminiToolSchemas
from services.agent.gemini.signatures import SignatureScope, SignatureStore
from services.agent.gemini.stream import normalize_stream
from services.agent.gemini.thoughts import (
    requested_marker,
    separate_thoughts,
    separate_thoughts_in_completion,
)
from services.agent.observability.metrics import record_model_error
from shared.settings import GeminiSettings

logger = logging.getLogger(__name__)

REQUEST_OPTION_NAMES = frozenset({"extra_headers", "extra_query", "extra_body", "timeout"})
"""`create` arguments that shape the HTTP request rather than go in its JSON body."""


class GeminiCompletions:
    """Stands in for `client.chat.completions` in the SDK's model.

    Retries happen here, before the answer's first byte, so a retry never repeats text the user
    already saw; errors leave as `ModelError` with Gemini's own message. Thought signatures are
    saved and restored only within `scope`, the thread the calls belong to (`for_thread`).
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        settings: GeminiSettings,
        signatures: SignatureStore,
        scope: SignatureScope | None = None,
        schemas: GeminiToolSchemas | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._signatures = signatures
        self._scope = scope
        self._schemas = schemas or GeminiToolSchemas()

    def for_thread(self, scope: SignatureScope) -> GeminiCompletions:
        """The same seam, keeping thought signatures in `scope`'s thread."""
        return GeminiCompletions(
            self._client, self._settings, self._signatures, scope, self._schemas
        )

    async def create(self, **kwargs: Any) -> ChatCompletion | AsyncIterator[ChatCompletionChunk]:
        request = await prepare_request(
            kwargs, self._settings, self._signatures, self._scope, self._schemas
        )
        response = await self._post_with_retries(request)
        marker = requested_marker(request)
        if isinstance(response, ChatCompletion):
            return response if marker is None else separate_thoughts_in_completion(response, marker)
        return without_empty_answers(
            self._stream(response, marker),
            lambda: self._retry_stream(request),
            request.get("messages"),
            on_empty=lambda: record_model_error("empty_answer"),
        )

    async def _retry_stream(self, request: dict[str, Any]) -> AsyncIterator[ChatCompletionChunk]:
        response = await self._post_with_retries(request)
        if isinstance(response, ChatCompletion):
            raise TypeError("a streaming request returned a whole completion")
        return self._stream(response, requested_marker(request))

    async def _post_with_retries(
        self, request: dict[str, Any]
    ) -> ChatCompletion | openai.AsyncStream[ChatCompletionChunk]:
        attempt = 0
        while True:
            try:
                return await self._post(request)
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

    async def _post(
        self, request: dict[str, Any]
    ) -> ChatCompletion | openai.AsyncStream[ChatCompletionChunk]:
        """`client.chat.completions.create(**request)` without its parameter transform.

        That transform walks the whole request (every message, every tool schema) against the
        SDK's TypedDicts on each call: about a fifth of a worker's CPU per turn. The SDK's
        requests are plain JSON already (`agents.util._json` made them so), so the body is sent
        as it is, minus the parameters the caller left unset.
        """
        body = {
            key: value
            for key, value in request.items()
            if key not in REQUEST_OPTION_NAMES and not isinstance(value, NotGiven | Omit)
        }
        options = make_request_options(
            extra_headers=request.get("extra_headers"),
            extra_query=request.get("extra_query"),
            extra_body=request.get("extra_body"),
            timeout=request.get("timeout", NOT_GIVEN),
            security={"bearer_auth": True},
        )
        stream = bool(body.get("stream"))
        return await self._client.post(
            "/chat/completions",
            body=body,
            options=options,
            cast_to=ChatCompletion,
            stream=stream,
            stream_cls=ChunkStream,
        )

    async def _save_signatures(self, signatures: dict[str, str]) -> None:
        if self._scope is not None:
            await self._signatures.save(self._scope, signatures)

    async def _stream(
        self, stream: openai.AsyncStream[ChatCompletionChunk], thought_marker: str | None
    ) -> AsyncIterator[ChatCompletionChunk]:
        chunks: AsyncIterator[ChatCompletionChunk] = aiter(stream)
        if thought_marker is not None:
            chunks = separate_thoughts(chunks, thought_marker)
        try:
            async for chunk in normalize_stream(chunks, self._save_signatures):
                yield chunk
        except ModelStreamCutError:
            record_model_error("stream_cut")
            raise
        finally:
            await stream.close()
