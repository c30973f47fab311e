"""`python -m services.gemini_emulator` as a real subprocess: env knobs, flags, printed URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import httpx


async def test_cli_prints_base_url_and_applies_env_and_flags() -> None:
    env = {**os.environ, "EMULATOR_RETRY_AFTER_S": "5", "EMULATOR_PORT": "1"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.gemini_emulator",
        "--port",  # the flag wins over EMULATOR_PORT
        "0",
        "--log-level",
        "warning",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
        base_url = line.decode().strip()
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
