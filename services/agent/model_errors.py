"""What the user is told when the model call fails.

Gemini sends error bodies as a JSON array, so the OpenAI client's message is only "Error code: 429";
the user gets a sentence that says what happened and whether trying again can help.
"""

from __future__ import annotations

import openai
from chatkit.errors import CustomStreamError

BUSY = "The assistant is busy, try again in a moment."
UNREACHABLE = "The assistant could not be reached. Please try again."
REJECTED = "The assistant could not handle this request."


def model_error_to_stream_error(exc: openai.OpenAIError) -> CustomStreamError:
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code in (429, 500, 502, 503, 504):
            return CustomStreamError(BUSY, allow_retry=True)
        return CustomStreamError(REJECTED, allow_retry=False)
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return CustomStreamError(UNREACHABLE, allow_retry=True)
    return CustomStreamError(UNREACHABLE, allow_retry=True)
