"""`python -m services.gemini_emulator` as a real subprocess: env knobs, flags, printed URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable

import httpx


def start_emulator(env: dict[str, str], *flags: str) -> Awaitable[asyncio.subprocess.Process]:
    """The emulator as a subprocess on any free port (`--port 0` wins over EMULATOR_PORT)."""
    return asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.gemini_emulator",
        "--port",
        "0",
        "--log-level",
        "warning",
        *flags,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def printed_base_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
    return line.decode().strip()


async def test_cli_prints_base_url_and_applies_env_and_flags() -> None:
    env = {**os.environ, "EMULATOR_RETRY_AFTER_S": "5", "EMULATOR_PORT": "1"}
    process = await start_emulator(env)
    try:
        base_url = await printed_base_url(process)
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1beta/openai/")
        async with httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": "Bearer k"}
        ) as client:
            # The socket listens before the URL is printed, so no retry loop is needed.
            response = await client.post(
                "chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
                headers={"X-Emulator-Fail": "429"},
            )
            assert response.status_code == 429
            assert response.headers["retry-after"] == "5"
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status reports it.
    assert process.returncode in (0, -signal.SIGTERM), stderr.decode()


async def test_cli_rejects_bad_env() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.gemini_emulator",
        env={**os.environ, "EMULATOR_TOKENS_PER_S": "fast"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 1
    assert b"EMULATOR_TOKENS_PER_S" in stderr


async def test_cli_behaviour_switches_from_env_and_flags() -> None:
    env = {
        **os.environ,
        "EMULATOR_USAGE": "final_only",
        "EMULATOR_REQUIRE_SIGNATURES": "false",
        "EMULATOR_TOOL_CALL_INDEX": "include",
    }
    process = await start_emulator(
        env,
        "--tool-call-index",  # the flag wins over EMULATOR_TOOL_CALL_INDEX
        "omit",
        "--signature-placement",
        "trailing_delta",
    )
    try:
        root = (await printed_base_url(process)).split("/v1beta/")[0]
        async with httpx.AsyncClient(base_url=root) as control:
            behaviour = (await control.get("/emulator/behaviour")).json()
    finally:
        process.terminate()
        await asyncio.wait_for(process.communicate(), timeout=20)
    assert behaviour == {
        "tool_call_index": "omit",
        "tool_finish_reason": "stop",
        "signature_placement": "trailing_delta",
        "empty_tool_call_ids": False,
        "usage": "final_only",
        "require_signatures": False,
        "check_tool_schemas": True,
    }


async def test_cli_rejects_bad_switch() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.gemini_emulator",
        "--usage",
        "sometimes",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode != 0
    assert "usage must be one of every_chunk, final_only" in stderr.decode()
