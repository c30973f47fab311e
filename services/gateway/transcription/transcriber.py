"""Turning a dictated audio clip into text with Gemini.

Gemini's OpenAI-compatible chat endpoint takes audio as an `input_audio` part; the model is asked
for the transcript only. Each clip counts against the user's `TRANSCRIPTION_DAILY_QUOTA` and is
recorded in `turn_usage` (thread id `DICTATION_THREAD_ID`) like a turn's model calls.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, cast

import openai
from chatkit.types import AudioInput, TranscriptionResult
from openai.types.chat import ChatCompletionMessageParam

from services.gateway.quotas.daily_messages import DailyMessageQuota
from shared.errors import (
    InvalidInputError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
)
from shared.settings import GeminiSettings, TranscriptionSettings
from shared.usage.repository import TurnUsage, UsageRepository

logger = logging.getLogger(__name__)

INSTRUCTION = "Transcribe this audio exactly. Reply with the transcript only."
# The formats Gemini documents for audio input (https://ai.google.dev/gemini-api/docs/audio,
# "Supported audio formats": WAV, MP3, AIFF, AAC, OGG Vorbis, FLAC), named by their subtype;
# browsers and upload forms name some of them in other ways. WebM and MP4 (what Chrome and
# Safari's MediaRecorder produce) are not documented, so they are refused rather than sent.
FORMATS = {
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
    "audio/mp3": "mp3",
    "audio/mpeg": "mp3",
    "audio/aiff": "aiff",
    "audio/x-aiff": "aiff",
    "audio/aac": "aac",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
}
DICTATION_THREAD_ID = "dictation"
"""What a dictated clip's usage row names as its thread (it belongs to none)."""
SWITCHED_OFF = "Dictation is switched off on this server (set TRANSCRIPTION_ENABLED=true)."


class Transcriber:
    """`input.transcribe` for the gateway; refuses with a how-to-enable message when off."""

    def __init__(
        self,
        settings: TranscriptionSettings,
        gemini: GeminiSettings,
        quota: DailyMessageQuota,
        usage: UsageRepository,
    ) -> None:
        self._settings = settings
        self._gemini = gemini
        self._quota = quota
        self._usage = usage
        self._client = (
            openai.AsyncOpenAI(
                api_key=gemini.api_key,
                base_url=gemini.base_url,
                timeout=gemini.request_timeout_s,
                max_retries=2,
            )
            if settings.enabled
            else None
        )

    async def transcribe(self, audio: AudioInput, user_id: str) -> TranscriptionResult:
        """The transcript of `audio`; 400 when off, 415 for a format Gemini does not document,
        413 too long, 429 over the daily quota, 503 on failure."""
        if self._client is None:
            raise InvalidInputError(SWITCHED_OFF)
        audio_format = FORMATS.get(audio.media_type.strip().lower())
        if audio_format is None:
            raise UnsupportedMediaTypeError(
                f"Audio of type {audio.mime_type!r} cannot be transcribed; send one of "
                + ", ".join(FORMATS)
                + "."
            )
        if len(audio.data) > self._settings.max_bytes:
            raise PayloadTooLargeError(
                f"The recording is {len(audio.data):,} bytes; the limit is "
                f"{self._settings.max_bytes:,}."
            )
        # Gemini accepts more audio formats than OpenAI's typed `input_audio` lists.
        message: dict[str, Any] = {
            "role": "user",
            "content": [
                {"type": "text", "text": INSTRUCTION},
                {
                    "type": "input_audio",
                    "input_audio": {
                        "data": base64.b64encode(audio.data).decode("ascii"),
                        "format": audio_format,
                    },
                },
            ],
        }
        await self._quota.take(user_id)
        try:
            response = await self._client.chat.completions.create(
                model=self._gemini.model,
                messages=cast("list[ChatCompletionMessageParam]", [message]),
            )
        except openai.OpenAIError as exc:
            logger.warning("transcription failed: %r", exc)
            await self._quota.give_back(user_id)
            raise ServiceUnavailableError(
                "Dictation is not available right now; please type or try again."
            ) from exc
        await self._usage.record(
            TurnUsage(
                user_id=user_id,
                thread_id=DICTATION_THREAD_ID,
                turn_id=None,
                model=self._gemini.model,
                requests=1,
                input_tokens=response.usage.prompt_tokens if response.usage else 0,
                output_tokens=response.usage.completion_tokens if response.usage else 0,
            )
        )
        text = response.choices[0].message.content if response.choices else None
        return TranscriptionResult(text=(text or "").strip())

    async def close(self) -> None:
        """Close the HTTP client (gateway shutdown)."""
        if self._client is not None:
            await self._client.close()
