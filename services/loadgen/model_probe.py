"""The model's own time to first token, measured straight at its endpoint: what a turn through
TaskChat is compared with."""

from __future__ import annotations

import time

import httpx

from services.loadgen.stats import Percentiles, percentiles


async def model_first_token_ms(base_url: str, *, requests: int = 20) -> Percentiles | None:
    """Sequential streaming requests to `base_url` (…/openai/); time to the first content."""
    body = {
        "model": "gemini-2.5-flash",
        "stream": True,
        "messages": [{"role": "user", "content": "please repeat after me: hello"}],
    }
    timings = []
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        for _ in range(requests):
            started = time.perf_counter()
            async with http.stream(
                "POST", "chat/completions", json=body, headers={"Authorization": "Bearer x"}
            ) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: {") and '"content"' in line:
                        timings.append((time.perf_counter() - started) * 1000)
                        break
    return percentiles(timings)
