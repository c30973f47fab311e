"""The emulator's Gemini switches and its Gemini-3 style request validation, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.gemini_emulator.behaviour import Behaviour
from services.gemini_emulator.config import EmulatorConfig
from services.gemini_emulator.server import running_emulator

AUTH = {"Authorization": "Bearer test-key"}
TOOLS = [
    {"type": "function", "function": {"name": "create_task", "parameters": {"type": "object"}}}
]


@pytest.fixture
async def urls() -> AsyncIterator[tuple[str, str]]:
    async with running_emulator() as url:
        yield url, url.split("/v1beta/")[0]


async def stream(
    api: str,
    messages: list[dict[str, Any]],
    headers: dict[str, str] | None = None,
    model: str = "gemini-3-pro",
) -> tuple[int, list[dict[str, Any]], Any]:
    body = {"model": model, "stream": True, "messages": messages, "tools": TOOLS}
    async with httpx.AsyncClient(base_url=api, headers=AUTH, timeout=10) as http:
        response = await http.post("chat/completions", json=body, headers=headers)
    if response.status_code != 200:
        return response.status_code, [], response.json()
    chunks = [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")
    ]
    return 200, chunks, None


def calls_in(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for ch in chunks for c in ch["choices"][0]["delta"].get("tool_calls", [])]


def follow_up(user: str, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": user},
        {"role": "assistant", "content": None, "tool_calls": calls},
        *({"role": "tool", "tool_call_id": c["id"], "content": "{}"} for c in calls),
    ]


async def test_defaults_are_geminis(urls: tuple[str, str]) -> None:
    api, _ = urls
    status, chunks, _ = await stream(api, [{"role": "user", "content": "add milk and eggs"}])
    assert status == 200
    calls = calls_in(chunks)
    assert len(calls) == 2 and all("index" not in c for c in calls)
    assert "extra_content" in calls[0] and "extra_content" not in calls[1]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["usage"] is not None for c in chunks)


async def test_signature_round_trip_is_checked(urls: tuple[str, str]) -> None:
    api, _ = urls
    _, chunks, _ = await stream(api, [{"role": "user", "content": "add task milk"}])
    calls = calls_in(chunks)
    ok, _, _ = await stream(api, follow_up("add task milk", calls))
    assert ok == 200

    unsigned = [{k: v for k, v in c.items() if k != "extra_content"} for c in calls]
    status, _, body = await stream(api, follow_up("add task milk", unsigned))
    assert status == 400
    assert "missing a thought_signature" in body[0]["error"]["message"]
    assert body[0]["error"]["status"] == "INVALID_ARGUMENT"

    forged = [{**calls[0], "extra_content": {"google": {"thought_signature": "emu1.forged"}}}]
    status, _, body = await stream(api, follow_up("add task milk", forged))
    assert status == 400 and "Invalid thought_signature" in body[0]["error"]["message"]

    # Calls of earlier turns are not checked, as Gemini does not check them.
    earlier = [*follow_up("add task milk", unsigned), {"role": "user", "content": "hello"}]
    assert (await stream(api, earlier))[0] == 200


async def test_runtime_switches(urls: tuple[str, str]) -> None:
    api, root = urls
    async with httpx.AsyncClient(base_url=root) as control:
        changed = await control.put(
            "/emulator/behaviour",
            json={
                "tool_call_index": "include",
                "tool_finish_reason": "tool_calls",
                "signature_placement": "trailing_delta",
                "empty_tool_call_ids": True,
                "usage": "final_only",
            },
        )
        assert changed.status_code == 200
        _, chunks, _ = await stream(api, [{"role": "user", "content": "add task milk"}])
        (call,) = calls_in(chunks)
        assert call["index"] == 0 and call["id"] == "" and "extra_content" not in call
        trailing = chunks[-2]["choices"][0]["delta"]
        assert trailing["extra_content"]["google"]["thought_signature"].startswith("emu1.")
        assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
        assert [c["usage"] is not None for c in chunks] == [False] * (len(chunks) - 1) + [True]

        # The trailing signature validates once the client puts it on the first call.
        signed = [{**call, "id": "call_x", "extra_content": trailing["extra_content"]}]
        assert (await stream(api, follow_up("add task milk", signed)))[0] == 200

        assert (
            await control.put("/emulator/behaviour", json={"usage": "sometimes"})
        ).status_code == 400
        assert (await control.put("/emulator/behaviour", json={"colour": "red"})).status_code == 400
        await control.delete("/emulator/behaviour")
        assert (await control.get("/emulator/behaviour")).json() == Behaviour().to_dict()


async def test_per_request_header(urls: tuple[str, str]) -> None:
    api, _ = urls
    _, chunks, _ = await stream(
        api,
        [{"role": "user", "content": "add task milk"}],
        headers={"X-Emulator-Behaviour": "signature_placement=none"},
    )
    assert "extra_content" not in calls_in(chunks)[0]


async def test_tool_results_must_answer_a_call(urls: tuple[str, str]) -> None:
    api, _ = urls
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "tool", "tool_call_id": "call_nobody", "content": "{}"},
    ]
    status, _, body = await stream(api, messages)
    assert status == 400 and "unknown tool_call_id" in body[0]["error"]["message"]


async def post(
    api: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api, headers=AUTH, timeout=10) as http:
        return await http.post("chat/completions", json=body, headers=headers)


ADD_TWO = [{"role": "user", "content": "add milk and eggs"}]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("tool_call_index=include", lambda calls, chunks: [c["index"] for c in calls] == [0, 1]),
        (
            "tool_finish_reason=tool_calls",
            lambda calls, chunks: chunks[-1]["choices"][0]["finish_reason"] == "tool_calls",
        ),
        (
            "signature_placement=trailing_delta",
            lambda calls, chunks: (
                all("extra_content" not in c for c in calls)
                and chunks[-2]["choices"][0]["delta"]["extra_content"]["google"][
                    "thought_signature"
                ]
                and chunks[-2]["choices"][0]["delta"]["content"] == ""
            ),
        ),
        (
            "signature_placement=none",
            lambda calls, chunks: "extra_content" not in json.dumps(chunks),
        ),
        ("empty_tool_call_ids=true", lambda calls, chunks: [c["id"] for c in calls] == ["", ""]),
        (
            "usage=final_only",
            lambda calls, chunks: (
                [c["usage"] is None for c in chunks] == [True] * (len(chunks) - 1) + [False]
            ),
        ),
    ],
)
async def test_each_switch_by_header(urls: tuple[str, str], header: str, expected: Any) -> None:
    api, root = urls
    status, chunks, _ = await stream(api, ADD_TWO, headers={"X-Emulator-Behaviour": header})
    assert status == 200
    calls = calls_in(chunks)
    assert len(calls) == 2 and expected(calls, chunks)
    # A per-request switch does not change the emulator's behaviour.
    async with httpx.AsyncClient(base_url=root) as control:
        assert (await control.get("/emulator/behaviour")).json() == Behaviour().to_dict()


async def test_startup_defaults_put_get_and_reset() -> None:
    startup = Behaviour(tool_call_index="include", require_signatures=False)
    async with running_emulator(EmulatorConfig(port=0, behaviour=startup)) as api:
        root = api.split("/v1beta/")[0]
        async with httpx.AsyncClient(base_url=root) as control:
            assert (await control.get("/emulator/behaviour")).json() == startup.to_dict()
            _, chunks, _ = await stream(api, ADD_TWO)
            assert [c["index"] for c in calls_in(chunks)] == [0, 1]

            changed = await control.put("/emulator/behaviour", json={"usage": "final_only"})
            assert changed.json() == {**startup.to_dict(), "usage": "final_only"}
            assert (await control.get("/emulator/behaviour")).json() == changed.json()
            for bad in (b"{not json", b"[]", b'{"usage": 1}', b'{"require_signatures": "x"}'):
                response = await control.put("/emulator/behaviour", content=bad)
                assert response.status_code == 400 and response.json()["detail"]
            # A refused change changes nothing.
            assert (await control.get("/emulator/behaviour")).json() == changed.json()

            assert (await control.delete("/emulator/behaviour")).status_code == 204
            # Reset goes back to the start-up defaults, not the built-in ones.
            assert (await control.get("/emulator/behaviour")).json() == startup.to_dict()


async def test_bad_behaviour_header_is_a_gemini_400(urls: tuple[str, str]) -> None:
    api, _ = urls
    for header in ("usage", "usage=sometimes", "colour=red"):
        status, _, body = await stream(api, ADD_TWO, headers={"X-Emulator-Behaviour": header})
        assert status == 400 and body[0]["error"]["status"] == "INVALID_ARGUMENT"


async def test_empty_ids_round_trip_once_the_client_names_the_calls(urls: tuple[str, str]) -> None:
    api, _ = urls
    empty = {"X-Emulator-Behaviour": "empty_tool_call_ids=true"}
    _, chunks, _ = await stream(api, ADD_TWO, headers=empty)
    calls = calls_in(chunks)
    assert [c["id"] for c in calls] == ["", ""]
    # Sent back as received: Gemini refuses tool calls without ids.
    status, _, body = await stream(api, [*ADD_TWO, {"role": "assistant", "tool_calls": calls}])
    assert status == 400 and "non-empty id" in body[0]["error"]["message"]
    # With ids made up by the client, the signature still validates.
    named = [{**c, "id": f"client_{i}"} for i, c in enumerate(calls)]
    status, chunks, _ = await stream(api, follow_up(ADD_TWO[0]["content"], named))
    assert status == 200 and calls_in(chunks) == []


async def test_tool_result_ids_must_match_a_preceding_call(urls: tuple[str, str]) -> None:
    api, _ = urls
    _, chunks, _ = await stream(api, [{"role": "user", "content": "add task milk"}])
    messages = follow_up("add task milk", calls_in(chunks))
    messages[-1] = {**messages[-1], "tool_call_id": "call_other"}
    status, _, body = await stream(api, messages)
    assert status == 400 and "unknown tool_call_id" in body[0]["error"]["message"]
    assert isinstance(body, list) and body[0]["error"]["code"] == 400


async def test_every_group_of_the_current_turn_is_checked(urls: tuple[str, str]) -> None:
    api, _ = urls
    # Gemini 2.5's signatures are not bound to their conversation, so two groups made in two
    # conversations can be spliced into one turn here (Gemini 3's would be refused for that).
    model = "gemini-2.5-flash"
    _, chunks, _ = await stream(api, [{"role": "user", "content": "add task milk"}], model=model)
    first = follow_up("add task milk", calls_in(chunks))
    _, chunks, _ = await stream(api, [{"role": "user", "content": "add task eggs"}], model=model)
    later_calls = calls_in(chunks)
    # Two sequential groups in one turn (no user message between), both signed: accepted.
    assert (await stream(api, [*first, *follow_up("", later_calls)[1:]], model=model))[0] == 200
    unsigned = [{k: v for k, v in c.items() if k != "extra_content"} for c in later_calls]
    status, _, body = await stream(api, [*first, *follow_up("", unsigned)[1:]], model=model)
    assert status == 400 and "missing a thought_signature" in body[0]["error"]["message"]
    # Gemini 3 refuses signatures not issued in this conversation (these were made by 2.5).
    status, _, body = await stream(api, [*first, *follow_up("", later_calls)[1:]])
    assert status == 400 and "Invalid thought_signature" in body[0]["error"]["message"]


async def test_signatures_can_be_switched_off(urls: tuple[str, str]) -> None:
    api, _ = urls
    _, chunks, _ = await stream(api, [{"role": "user", "content": "add task milk"}])
    unsigned = [{k: v for k, v in c.items() if k != "extra_content"} for c in calls_in(chunks)]
    messages = follow_up("add task milk", unsigned)
    assert (await stream(api, messages))[0] == 400
    off = {"X-Emulator-Behaviour": "require_signatures=false"}
    assert (await stream(api, messages, headers=off))[0] == 200


async def test_non_streamed_signature_round_trip(urls: tuple[str, str]) -> None:
    api, _ = urls
    body = {
        "model": "gemini-3-pro",
        "messages": [{"role": "user", "content": "add task milk"}],
        "tools": TOOLS,
    }
    trailing = {"X-Emulator-Behaviour": "signature_placement=trailing_delta"}
    message = (await post(api, body, trailing)).json()["choices"][0]["message"]
    (call,) = message["tool_calls"]
    assert call["extra_content"]["google"]["thought_signature"].startswith("emu1.")
    follow = {**body, "messages": follow_up("add task milk", message["tool_calls"])}
    assert (await post(api, follow)).status_code == 200


async def test_a_fixed_key_signs_alike_across_emulators() -> None:
    config = EmulatorConfig(port=0, signing_key="shared secret")
    async with (
        running_emulator(config) as one,
        running_emulator(config) as two,
        running_emulator() as other,
    ):
        _, chunks, _ = await stream(one, [{"role": "user", "content": "add task milk"}])
        messages = follow_up("add task milk", calls_in(chunks))
        assert (await stream(two, messages))[0] == 200
        status, _, body = await stream(other, messages)
        assert status == 400 and "Invalid thought_signature" in body[0]["error"]["message"]


async def test_request_log_records_what_was_answered(urls: tuple[str, str]) -> None:
    api, root = urls
    final_only = {"X-Emulator-Behaviour": "usage=final_only"}
    _, streamed, _ = await stream(api, ADD_TWO)
    _, text_chunks, _ = await stream(api, [{"role": "user", "content": "hi"}], final_only)
    completion = (
        await post(api, {"model": "gemini-3-pro", "messages": [{"role": "user", "content": "yo"}]})
    ).json()
    refused = await stream(api, ADD_TWO, headers={"X-Emulator-Fail": "429"})
    _, length_chunks, _ = await stream(api, ADD_TWO, headers={"X-Emulator-Fail": "length"})
    _, cut_chunks, _ = await stream(
        api, [{"role": "user", "content": "one two three four"}], {"X-Emulator-Fail": "cut"}
    )
    async with httpx.AsyncClient(base_url=root) as control:
        log = [entry["response"] for entry in (await control.get("/emulator/requests")).json()]
    keys = {"status", "usage", "tool_calls", "text", "failure", "error"}
    assert all(set(response) == keys for response in log)
    tools, text, plain, rate_limited, length, cut = log
    # Usage is exactly what the last chunk (or the body) told the client.
    assert tools["usage"] == streamed[-1]["usage"]
    assert tools["tool_calls"] == ["create_task", "create_task"] and tools["text"] == ""
    assert text["usage"] == text_chunks[-1]["usage"] is not None
    assert text["text"] == "You said: hi" and text["tool_calls"] == []
    assert plain["usage"] == completion["usage"]
    assert plain["text"] == completion["choices"][0]["message"]["content"]
    assert refused[0] == 429
    assert rate_limited == {
        "status": 429,
        "usage": None,
        "tool_calls": [],
        "text": "",
        "failure": "429",
        "error": refused[2][0]["error"]["message"],
    }
    assert length["usage"] == length_chunks[-1]["usage"] and length["failure"] == "length"
    assert cut["usage"] == cut_chunks[-1]["usage"] and cut["failure"] == "cut"
    assert cut["text"] == "".join(c["choices"][0]["delta"]["content"] for c in cut_chunks)
