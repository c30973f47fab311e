"""Thought summaries, sent the way Gemini's OpenAI-compatible endpoint sends them.

With `extra_body.google.thinking_config.include_thoughts`, the summary comes inside the message
content, before the answer (or the tool calls). With `google.thought_tag_marker` it is wrapped
in `<marker>...</marker>`; without one it comes untagged, as Vertex sends it, so a client that
forgets the marker shows the summary as if it were the answer. Streamed, both tags are cut in
the middle, across chunks: the hardest case a client must put back together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.gemini_emulator.chunks import ResponseMeta, chunk, split_tokens

THOUGHT_SUMMARY = (
    "**Weighing the request**\n\nI am working out which of the user's tasks this is about "
    "before I answer."
)
"""The emulated model's thought summary (tests look for it where it must not be)."""


@dataclass(frozen=True, slots=True)
class ThoughtRequest:
    marker: str | None
    """The tag to wrap the summary in; None: untagged."""

    def text(self) -> str:
        if self.marker is None:
            return THOUGHT_SUMMARY + "\n\n"
        return f"<{self.marker}>{THOUGHT_SUMMARY}</{self.marker}>"


def requested_thoughts(body: Mapping[str, Any]) -> ThoughtRequest | None:
    """What `body` asks for: thoughts (tagged or not), or None for none."""
    extra = body.get("extra_body")
    google = extra.get("google") if isinstance(extra, Mapping) else None
    if not isinstance(google, Mapping):
        return None
    config = google.get("thinking_config")
    if not isinstance(config, Mapping) or config.get("include_thoughts") is not True:
        return None
    marker = google.get("thought_tag_marker")
    return ThoughtRequest(marker if isinstance(marker, str) and marker else None)


def _cut_tags(pieces: list[str], thought: ThoughtRequest) -> list[str]:
    """`pieces` with the opening and the closing tag each cut in two, across pieces."""
    if thought.marker is None or len(pieces) < 2:
        return pieces
    first, last = pieces[0], pieces[-1]
    opening_cut = 1 + len(thought.marker) // 2
    closing_at = last.rindex("</")
    closing_cut = closing_at + 2 + len(thought.marker) // 2
    return [
        first[:opening_cut],
        first[opening_cut:],
        *pieces[1:-1],
        last[:closing_cut],
        last[closing_cut:],
    ]


def thought_chunks(
    meta: ResponseMeta, thought: ThoughtRequest, *, every_chunk_usage: bool
) -> list[dict[str, Any]]:
    """The chunks that carry the summary, ahead of the reply's own (no finish reason)."""
    pieces = _cut_tags(split_tokens(thought.text()), thought)
    # Thoughts are billed as output; the reply's own chunks report its own count after these.
    return [
        chunk(meta, {"content": piece}, None, 0, with_usage=every_chunk_usage) for piece in pieces
    ]


def with_thought(message: dict[str, Any], thought: ThoughtRequest) -> dict[str, Any]:
    """A whole (non-streamed) message with the summary ahead of its content."""
    return {**message, "content": thought.text() + (message.get("content") or "")}
