"""Pure tests of the emulator's behaviour switches, its signature scheme and chunk shapes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.gemini_emulator.behaviour import (
    Behaviour,
    BehaviourError,
    allowed_values,
    env_names,
    parse_header,
)
from services.gemini_emulator.chunks import completion_body, new_meta, stream_chunks
from services.gemini_emulator.config import ConfigError, EmulatorConfig
from services.gemini_emulator.failures import FailureMode
from services.gemini_emulator.responses import delivered_completion, streamed_chunks
from services.gemini_emulator.rules import TextReply, ToolCallPlan, ToolCallsReply
from services.gemini_emulator.signatures import (
    PREFIX,
    check_signatures,
    check_tool_messages,
    sign,
)

KEY = b"k" * 32
TWO_CALLS = ToolCallsReply(
    (ToolCallPlan("create_task", {"title": "a"}), ToolCallPlan("create_task", {"title": "b"}))
)
MISSING = (
    "Function call is missing a thought_signature in functionCall parts. This is required for "
    "tools to work correctly, and missing thought_signature may lead to degraded model "
    "performance. Additional data, function call `default_api:create_task` , position 1. Please "
    "refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)


# --- behaviour parsing -------------------------------------------------------------------------


def test_defaults_are_geminis() -> None:
    assert Behaviour().to_dict() == {
        "tool_call_index": "omit",
        "tool_finish_reason": "stop",
        "signature_placement": "first_call",
        "empty_tool_call_ids": False,
        "usage": "every_chunk",
        "require_signatures": True,
        "check_tool_schemas": True,
    }


def test_with_changes_accepts_typed_and_text_values() -> None:
    changed = Behaviour().with_changes(
        {
            "tool_call_index": "include",
            "tool_finish_reason": " tool_calls ",
            "signature_placement": "trailing_delta",
            "empty_tool_call_ids": True,
            "usage": "final_only",
            "require_signatures": "off",
        }
    )
    assert changed == Behaviour(
        "include", "tool_calls", "trailing_delta", True, "final_only", False
    )
    for text, value in (("true", True), ("1", True), ("YES", True), ("0", False), ("no", False)):
        assert Behaviour().with_changes({"empty_tool_call_ids": text}).empty_tool_call_ids is value
    # Unchanged fields stay; the original is frozen and untouched.
    base = Behaviour(usage="final_only")
    assert base.with_changes({"tool_call_index": "include"}).usage == "final_only"
    assert base.tool_call_index == "omit"
    assert Behaviour().with_changes({}) == Behaviour()


@pytest.mark.parametrize(
    "changes",
    [
        {"tool_call_index": "sometimes"},
        {"tool_finish_reason": "tool_call"},
        {"signature_placement": True},
        {"usage": None},
        {"empty_tool_call_ids": "maybe"},
        {"require_signatures": 1},
        {"colour": "red"},
    ],
)
def test_with_changes_rejects_bad_fields_and_values(changes: dict[str, Any]) -> None:
    with pytest.raises(BehaviourError):
        Behaviour().with_changes(changes)


def test_header_parsing() -> None:
    assert parse_header(None) == {} and parse_header(" ") == {}
    assert parse_header("usage=final_only, empty_tool_call_ids=true,") == {
        "usage": "final_only",
        "empty_tool_call_ids": "true",
    }
    with pytest.raises(BehaviourError):
        parse_header("usage")


def test_env_and_config() -> None:
    assert env_names()["tool_call_index"] == "EMULATOR_TOOL_CALL_INDEX"
    assert allowed_values("signature_placement") == ("first_call", "trailing_delta", "none")
    assert allowed_values("require_signatures") == ("true", "false")
    env = {
        "EMULATOR_TOOL_CALL_INDEX": "include",
        "EMULATOR_SIGNATURE_PLACEMENT": "trailing_delta",
        "EMULATOR_REQUIRE_SIGNATURES": "false",
        "EMULATOR_USAGE": "",  # empty = unset
        "EMULATOR_SIGNING_KEY": "fixed",
    }
    config = EmulatorConfig.from_env(env)
    assert config.behaviour == Behaviour(
        tool_call_index="include", signature_placement="trailing_delta", require_signatures=False
    )
    assert config.signing_key == "fixed"
    assert EmulatorConfig.from_env({}).behaviour == Behaviour()
    with pytest.raises(ConfigError, match="EMULATOR_"):
        EmulatorConfig.from_env({"EMULATOR_USAGE": "sometimes"})


# --- signature scheme --------------------------------------------------------------------------


def assistant(*calls: tuple[str, str, str | None], call_ids: bool = True) -> dict[str, Any]:
    """An assistant message from (name, arguments, signature) triples."""
    tool_calls = []
    for position, (name, arguments, signature) in enumerate(calls):
        call: dict[str, Any] = {
            "id": f"call_{position}" if call_ids else "",
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
        if signature is not None:
            call["extra_content"] = {"google": {"thought_signature": signature}}
        tool_calls.append(call)
    return {"role": "assistant", "content": None, "tool_calls": tool_calls}


def test_signature_is_a_prefixed_hmac_of_the_first_calls_name_and_arguments() -> None:
    signature = sign(KEY, "create_task", '{"title":"a"}')
    assert signature.startswith(PREFIX) and len(signature) == len(PREFIX) + 44
    assert signature == sign(KEY, "create_task", '{"title":"a"}')
    # Canonical JSON: key order and spacing do not matter...
    assert sign(KEY, "f", '{"a": 1, "b": 2}') == sign(KEY, "f", '{"b":2,"a":1}')
    # ...but the name, the values and the key do.
    assert signature != sign(KEY, "delete_task", '{"title":"a"}')
    assert signature != sign(KEY, "create_task", '{"title":"b"}')
    assert signature != sign(b"other", "create_task", '{"title":"a"}')
    # Arguments that are not JSON are signed as they are.
    assert sign(KEY, "f", "not json") != sign(KEY, "f", "not  json")


def test_check_signatures() -> None:
    args = '{"title":"a"}'
    good = sign(KEY, "create_task", args)
    user = {"role": "user", "content": "add a"}

    def check(*messages: dict[str, Any]) -> str | None:
        return check_signatures([user, *messages], KEY)

    assert check(assistant(("create_task", args, good), ("create_task", "{}", None))) is None
    # The id is not signed: a client that made up its own ids (empty_tool_call_ids) passes.
    assert check(assistant(("create_task", args, good), call_ids=False)) is None
    assert check(assistant(("create_task", args, None))) == MISSING
    # Only the first call of a group needs it; a signature on a later call does not count.
    assert check(assistant(("create_task", args, None), ("create_task", "{}", good))) == MISSING
    for bad in ("emu1.forged", good + "x", "ünïcode", 42):
        problem = check(assistant(("create_task", args, bad)))  # type: ignore[arg-type]
        assert problem is not None and problem.startswith("Invalid thought_signature")
    # The signature belongs to its call: other arguments with it are refused.
    assert check(assistant(("create_task", '{"title":"b"}', good))) is not None
    # Every group of the current turn is checked (sequential calls)...
    second = assistant(("list_tasks", "{}", None))
    assert check(assistant(("create_task", args, good)), second) is not None
    # ...but not those of earlier turns.
    earlier = [user, assistant(("create_task", args, None)), {"role": "user", "content": "hi"}]
    assert check_signatures(earlier, KEY) is None
    # Odd shapes are refused or skipped, never a crash.
    assert check({"role": "assistant", "tool_calls": [{"function": "x"}]}) is not None
    assert check({"role": "assistant", "tool_calls": "x"}) is None


def test_check_tool_messages() -> None:
    user = {"role": "user", "content": "hi"}
    result = {"role": "tool", "tool_call_id": "call_0", "content": "{}"}
    assert check_tool_messages([user, assistant(("f", "{}", None)), result]) is None
    assert "unknown tool_call_id" in str(check_tool_messages([user, result]))
    # The call must come before its result.
    assert check_tool_messages([user, result, assistant(("f", "{}", None))]) is not None
    empty_ids = assistant(("f", "{}", None), call_ids=False)
    assert "non-empty id" in str(check_tool_messages([user, empty_ids]))


# --- chunk shapes per switch -------------------------------------------------------------------


def delta_calls(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for ch in chunks for c in ch["choices"][0]["delta"].get("tool_calls", [])]


def test_stream_chunks_per_switch() -> None:
    meta = new_meta("gemini-3-pro", 40)
    openai_like = Behaviour(tool_call_index="include", tool_finish_reason="tool_calls")
    chunks = stream_chunks(meta, TWO_CALLS, openai_like, KEY)
    assert [c["index"] for c in delta_calls(chunks)] == [0, 1]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"

    chunks = stream_chunks(meta, TWO_CALLS, Behaviour(signature_placement="trailing_delta"), KEY)
    calls = delta_calls(chunks)
    assert all("extra_content" not in c for c in calls)
    trailing = chunks[-2]["choices"][0]
    assert trailing["finish_reason"] is None
    assert trailing["delta"] == {
        "role": "assistant",
        "content": "",
        "extra_content": {
            "google": {"thought_signature": sign(KEY, "create_task", '{"title":"a"}')}
        },
    }

    chunks = stream_chunks(meta, TWO_CALLS, Behaviour(signature_placement="none"), KEY)
    assert "extra_content" not in json.dumps(chunks)

    chunks = stream_chunks(meta, TWO_CALLS, Behaviour(empty_tool_call_ids=True), KEY)
    assert [c["id"] for c in delta_calls(chunks)] == ["", ""]

    for reply in (TWO_CALLS, TextReply("one two three")):
        chunks = stream_chunks(meta, reply, Behaviour(usage="final_only"), KEY)
        assert [c["usage"] is None for c in chunks] == [True] * (len(chunks) - 1) + [False]


def test_non_streamed_answers() -> None:
    meta = new_meta("gemini-3-pro", 40)
    for placement in ("first_call", "trailing_delta"):
        body = completion_body(meta, TWO_CALLS, Behaviour(signature_placement=placement), KEY)
        first, second = body["choices"][0]["message"]["tool_calls"]
        # No deltas to trail: the signature sits on the first call.
        assert first["extra_content"]["google"]["thought_signature"].startswith(PREFIX)
        assert "extra_content" not in second and "index" not in first
    body = completion_body(meta, TWO_CALLS, Behaviour(tool_call_index="include"), KEY)
    assert all("index" not in c for c in body["choices"][0]["message"]["tool_calls"])
    assert delivered_completion(meta, body, None) is body
    assert delivered_completion(meta, body, FailureMode.CUT) is None
    length = delivered_completion(meta, body, FailureMode.LENGTH)
    assert length is not None and length["usage"]["completion_tokens"] == 0


def test_failures_send_what_the_log_reports() -> None:
    meta = new_meta("m", 40)
    reply = TextReply("one two three four")
    full = stream_chunks(meta, reply, Behaviour(), KEY)
    assert streamed_chunks(meta, full, reply, Behaviour(), None) == full
    cut = streamed_chunks(meta, full, reply, Behaviour(), FailureMode.CUT)
    assert len(cut) == 2 and cut[-1]["usage"]["completion_tokens"] == 2
    final_only = Behaviour(usage="final_only")
    assert streamed_chunks(meta, full, reply, final_only, FailureMode.CUT)[-1]["usage"] is None
    assert streamed_chunks(meta, full, reply, final_only, FailureMode.HANG)[0]["usage"] is None
    (length,) = streamed_chunks(meta, full, reply, final_only, FailureMode.LENGTH)
    assert length["choices"][0]["finish_reason"] == "length" and length["usage"] is not None
