"""Turning a dictated audio clip into text with Gemini.

Gemini's OpenAI-compatible chat endpoint takes audio as an `input_audio` part; the model is asked
for the transcript only.
"""

from __future__ import annotations

import base64
import logging
from typing import Any, cast

import openai
from chatkit.types import AudioInput, TranscriptionResult
from openai.types.chat import ChatCompletionMessageParam

from shared.errors import InvalidInputError, PayloadTooLargeError, ServiceUnavailableError
from shared.settings import GeminiSettings, TranscriptionSettings

logger = logging.getLogger(__name__)

INSTRUCTION = "Transcribe this audio exactly. Reply with the transcript only."
# ChatKit records webm, ogg or mp4; Gemini names formats by their subtype.
# Browsers name the same formats in several ways (Safari records audio/mp4, uploads say x-wav).
FORMATS = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mp4": "mp4",
    "audio/x-m4a": "mp4",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/wave": "wav",
    "audio/x-wav": "wav",
}
SWITCHED_OFF = "Dictation is switched off on this server (set TRANSCRIPTION_ENABLED=true)."


class Transcriber:
    """`input.transcribe` for the gateway; refuses with a how-to-enable message when off."""

    def __init__(self, settings: TranscriptionSettings, gemini: GeminiSettings) -> None:
        self._settings = settings
        self._gemini = gemini
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

    async def transcribe(self, audio: AudioInput) -> TranscriptionResult:
        """The transcript of `audio`; 400 when off or unsupported, 413 too long, 503 on failure."""
        if self._client is None:
            raise InvalidInputError(SWITCHED_OFF)
        audio_format = FORMATS.get(audio.media_type.strip().lower())
        if audio_format is None:
            raise InvalidInputError(
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
        try:
            response = await self._client.chat.completions.create(
                model=self._gemini.model,
                messages=cast("list[ChatCompletionMessageParam]", [message]),
            )
        except openai.OpenAIError as exc:
            logger.warning("transcription failed: %r", exc)
            raise ServiceUnavailableError(
                "Dictation is not available right now; please type or try again."
            ) from exc
        text = response.choices[0].message.content if response.choices else None
        return TranscriptionResult(text=(text or "").strip())

    async def close(self) -> None:
        """Close the HTTP client (gateway shutdown)."""
        if self._client is not None:
            await self._client.close()
