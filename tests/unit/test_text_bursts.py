"""Plain text chunks read together are joined; everything else passes as it came."""

from __future__ import annotations

from typing import Any

from services.agent.gemini.text_bursts import join_text_chunks


def chunk(delta: dict[str, Any], *, finish: str | None = None, usage: int | None = None) -> Any:
    body: dict[str, Any] = {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gemini-3.8-flash",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = {"prompt_tokens": 5, "completion_tokens": usage, "total_tokens": 5 + usage}
    return body


def texts(chunks: list[Any]) -> list[str | None]:
    return [c["choices"][0]["delta"].get("content") for c in chunks]


def test_a_run_of_text_chunks_becomes_one_with_the_last_usage() -> None:
    burst = [
        chunk({"role": "assistant", "content": "Hello"}, usage=1),
        chunk({"content": " there"}, usage=2),
        chunk({"content": ", you"}, usage=3),
    ]
    [joined] = join_text_chunks(burst)
    assert joined["choices"][0]["delta"] == {"role": "assistant", "content": "Hello there, you"}
    assert joined["usage"]["completion_tokens"] == 3
    assert joined["id"] == "c1"


def test_a_finish_a_tool_call_or_a_signature_is_never_joined() -> None:
    call = {"tool_calls": [{"id": "a", "type": "function", "function": {"name": "f"}}]}
    signed = {"content": "x", "extra_content": {"google": {"thought_signature": "s"}}}
    burst = [
        chunk({"content": "a"}),
        chunk({"content": "b"}),
        chunk(call),
        chunk({"content": "c"}),
        chunk(signed),
        chunk({"content": "d"}),
        chunk({"content": "e"}),
        chunk({}, finish="stop"),
    ]
    joined = join_text_chunks(burst)
    assert texts(joined) == ["ab", None, "c", "x", "de", None]
    assert joined[1] == burst[2] and joined[3] == burst[4] and joined[5] == burst[7]


def test_gemini_s_role_on_every_chunk_does_not_stop_a_run() -> None:
    burst = [
        chunk({"role": "assistant", "content": "a"}),
        chunk({"role": "assistant", "content": "b"}),
    ]
    assert texts(join_text_chunks(burst)) == ["ab"]


def test_other_choices_and_unknown_fields_pass_unchanged() -> None:
    two_choices = chunk({"content": "a"})
    two_choices["choices"].append({"index": 1, "delta": {"content": "b"}, "finish_reason": None})
    refusal = chunk({"content": "x", "refusal": "no"})
    burst = [two_choices, chunk({"content": "c"}), refusal, chunk({"content": "d"})]
    assert join_text_chunks(burst) == burst


def test_a_single_chunk_is_returned_as_it_is() -> None:
    only = [chunk({"content": "a"})]
    assert join_text_chunks(only) is only
