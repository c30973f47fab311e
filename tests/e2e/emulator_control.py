"""Driving the Gemini emulator's test controls over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

SLOW_MODEL_ENV = {"EMULATOR_TOKENS_PER_S": "25", "TURN_HEARTBEAT_S": "0.5"}
"""A system whose emulator streams 25 tokens a second: `LONG_MESSAGE` then takes a few seconds to
answer, time enough to kill, stop or disconnect something mid-answer."""
LONG_MESSAGE = "please repeat " + " ".join(f"word{n}" for n in range(60))
LONG_REPLY = f"You said: {LONG_MESSAGE}"
"""The emulator echoes a message it has no rule for."""


class EmulatorControl:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=10)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self) -> None:
        self.http.delete("/emulator/requests").raise_for_status()
        self.http.delete("/emulator/failures").raise_for_status()
        self.http.delete("/emulator/behaviour").raise_for_status()

    def fail_next(self, mode: str, count: int = 1) -> None:
        self.http.post("/emulator/failures", json={"mode": mode, "count": count}).raise_for_status()

    def behave(self, **fields: Any) -> None:
        self.http.put("/emulator/behaviour", json=fields).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        """Logged exchanges, oldest first: {"request": body, "response": {...}}."""
        response = self.http.get("/emulator/requests")
        response.raise_for_status()
        entries: list[dict[str, Any]] = response.json()
        return entries

    def agent_requests(self) -> list[dict[str, Any]]:
        """The exchanges of agent runs (they offer tools), without the thread-title calls."""
        return [e for e in self.requests() if e["request"].get("tools")]
