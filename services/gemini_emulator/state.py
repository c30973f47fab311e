"""Per-app mutable state: the exchange log, the scripted-failure queue, the behaviour switches
and the key that signs thought signatures.

One instance is created by `create_app`, so two emulators in one process (e.g. parallel tests)
never share state. Everything runs on the server's single event loop and no method awaits, so
no locking is needed.
"""

from __future__ import annotations

import secrets
from collections import deque
from typing import Any

from services.gemini_emulator.behaviour import Behaviour
from services.gemini_emulator.failures import FailureMode

REQUEST_LOG_SIZE = 50


class EmulatorState:
    def __init__(
        self,
        behaviour: Behaviour | None = None,
        request_log_size: int = REQUEST_LOG_SIZE,
        *,
        signing_key: bytes | None = None,
    ) -> None:
        self._requests: deque[dict[str, Any]] = deque(maxlen=request_log_size)
        self._failures: deque[FailureMode] = deque()
        self.default_behaviour = behaviour or Behaviour()
        self.behaviour = self.default_behaviour
        self.signing_key = signing_key or secrets.token_bytes(32)

    def record_request(self, body: Any) -> dict[str, Any]:
        """Log a request; the returned entry's `response` is filled in once it is answered."""
        entry: dict[str, Any] = {"request": body, "response": None}
        self._requests.append(entry)
        return entry

    def requests(self) -> list[dict[str, Any]]:
        """Logged exchanges, oldest first: `{"request": body, "response": {...}}`."""
        return list(self._requests)

    def clear_requests(self) -> None:
        self._requests.clear()

    def enqueue_failures(self, mode: FailureMode, count: int) -> None:
        self._failures.extend([mode] * count)

    def next_failure(self, *, ends_with_tool_result: bool = False) -> FailureMode | None:
        """Pop the failure for the current request, if any is queued (an `empty_after_tool`
        waits for a request that ends with a tool result)."""
        if not self._failures:
            return None
        if self._failures[0] is FailureMode.EMPTY_AFTER_TOOL and not ends_with_tool_result:
            return None
        return self._failures.popleft()

    def queued_failures(self) -> list[FailureMode]:
        return list(self._failures)

    def clear_failures(self) -> None:
        self._failures.clear()
