"""Text chunks that arrive together travel on as one.

Everything after the connection pays per chunk: pydantic builds it, the Agents SDK turns it into a
Responses event, chatkit into a ChatKit event, and the worker merges those again before they go
out. When the model streams faster than the worker reads (a busy worker, or a model sending many
small chunks at once), one read off the connection holds many chunks; those that only add answer
text to the same message are joined here, before any of that work. Nothing waits for more: only
chunks already read are joined, so the first words are never delayed, and a worker with time to
spare sees every chunk as it was sent.

A chunk is joined only when it is plain text: one choice, its delta only `content` and perhaps
`role: assistant` (Gemini repeats it on every chunk; one streamed answer is one message), no
finish reason, no tool call, no signature. Anything else passes as it came, between the runs
around it. The joined chunk keeps the first one's ids and the last one's usage (Gemini's usage
is cumulative; the SDK keeps the last it sees).
"""

from __future__ import annotations

from typing import Any

_TEXT_DELTA_KEYS = frozenset({"content", "role"})
_CHOICE_KEYS = frozenset({"index", "delta", "finish_reason", "logprobs"})


def _text_of(chunk: Any) -> str | None:
    """The text a plain text chunk adds; None for any other chunk."""
    if not isinstance(chunk, dict):
        return None
    choices = chunk.get("choices")
    if not isinstance(choices, list) or len(choices) != 1:
        return None
    choice = choices[0]
    if (
        not isinstance(choice, dict)
        or choice.get("index", 0) != 0
        or choice.get("finish_reason") is not None
        or choice.get("logprobs") is not None
        or not _CHOICE_KEYS.issuperset(choice)
    ):
        return None
    delta = choice.get("delta")
    if not isinstance(delta, dict) or not _TEXT_DELTA_KEYS.issuperset(delta):
        return None
    content = delta.get("content")
    role = delta.get("role")
    if not isinstance(content, str) or role not in (None, "assistant"):
        return None
    return content


def join_text_chunks(chunks: list[Any]) -> list[Any]:
    """`chunks` (parsed JSON, in order) with each run of plain text chunks joined into one."""
    if len(chunks) < 2:
        return chunks
    joined: list[Any] = []
    run: list[Any] = []
    texts: list[str] = []
    for chunk in chunks:
        text = _text_of(chunk)
        if text is None:
            joined.extend(_joined(run, texts))
            run, texts = [], []
            joined.append(chunk)
        else:
            run.append(chunk)
            texts.append(text)
    joined.extend(_joined(run, texts))
    return joined


def _joined(run: list[Any], texts: list[str]) -> list[Any]:
    if len(run) < 2:
        return run
    first, last = run[0], run[-1]
    choice = first["choices"][0]
    delta = {**choice["delta"], "content": "".join(texts)}
    merged = {**first, "choices": [{**choice, "delta": delta}]}
    if "usage" in last:
        merged["usage"] = last["usage"]
    return [merged]
