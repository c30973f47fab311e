"""The emulator's Gemini switches and its Gemini-3 style request validation, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.gemini_emulator.behaviour import Behaviour, BehaviourError, parse_header
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
    api: str, messages: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> tuple[int, list[dict[str, Any]], Any]:
    body = {"model": "gemini-3-pro", "stream": True, "messages": messages, "tools": TOOLS}
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


def test_behaviour_parsing() -> None:
    assert parse_header("usage=final_only, empty_tool_call_ids=true") == {
        "usage": "final_only",
        "empty_tool_call_ids": "true",
    }
    assert Behaviour().with_changes({"require_signatures": "false"}).require_signatures is False
    with pytest.raises(BehaviourError):
        parse_header("usage")
    with pytest.raises(BehaviourError):
        Behaviour().with_changes({"tool_call_index": "sometimes"})
    env = {"EMULATOR_SIGNATURE_PLACEMENT": "trailing_delta", "EMULATOR_REQUIRE_SIGNATURES": "0"}
    from_env = EmulatorConfig.from_env(env).behaviour
    assert (from_env.signature_placement, from_env.require_signatures) == ("trailing_delta", False)
