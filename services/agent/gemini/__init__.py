"""Making the Agents SDK's Chat Completions path correct on Gemini's OpenAI-compatible endpoint.

Everything Gemini does differently from OpenAI is handled at one seam, the `chat.completions
.create` call the SDK makes (`completions.py`): the request is cleaned up and given back its thought
signatures, failures are retried and explained, and the streamed answer is normalised
(`stream.py`) before the SDK reads it.
"""
