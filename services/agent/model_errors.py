"""What the user is told when the model part of a turn fails."""

from __future__ import annotations

import openai
from agents.exceptions import MaxTurnsExceeded, ModelBehaviorError
from chatkit.errors import CustomStreamError

from services.agent.gemini.empty_answer import ModelOutputTruncatedError
from services.agent.gemini.errors import ModelError, ModelStreamCutError

BUSY = "The assistant is busy, try again in a moment."
UNREACHABLE = "The assistant could not be reached. Please try again."
CUT_OFF = "The answer was cut off before it finished. Please try again."
REJECTED = "The assistant could not handle this request."
TRUNCATED = "The assistant ran out of room for its answer. Try again, or ask for something shorter."


def too_many_rounds(max_rounds: int) -> CustomStreamError:
    return CustomStreamError(
        f"I had to stop: this request needed more than {max_rounds} rounds of tool calls. "
        "Try a simpler request, or split it into parts.",
        allow_retry=False,
    )


def to_stream_error(exc: Exception, *, max_rounds: int) -> CustomStreamError | None:
    """The user-facing error for a model-side failure, or None if `exc` is not one."""
    match exc:
        case ModelStreamCutError():
            return CustomStreamError(CUT_OFF, allow_retry=True)
        case ModelOutputTruncatedError():
            return CustomStreamError(TRUNCATED, allow_retry=True)
        case ModelError(retryable=True):
            return CustomStreamError(BUSY, allow_retry=True)
        case ModelError():
            return CustomStreamError(REJECTED, allow_retry=False)
        case openai.APIConnectionError():  # includes timeouts
            return CustomStreamError(UNREACHABLE, allow_retry=True)
        case MaxTurnsExceeded():
            return too_many_rounds(max_rounds)
        case ModelBehaviorError():
            return CustomStreamError(TRUNCATED, allow_retry=True)
    return None
