"""Per-app mutable state: the request log and the scripted-failure queue.

One instance is created by `create_app`, so two emulators in one process (e.g. parallel tests)
never share state. Everything runs on the server's single event loop and no method awaits, so
no locking is needed.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from services.gemini_emulator.failures import FailureMode

REQUEST_LOG_SIZE = 50


class EmulatorState:
    def __init__(self, request_log_size: int = REQUEST_LOG_SIZE) -> None:
        self._requests: deque[Any] = deque(maxlen=request_log_size)
        self._failures: deque[FailureMode] = deque()

    def record_request(self, body: Any) -> None:
        self._requests.append(body)

    def requests(self) -> list[Any]:
        """Received chat request bodies, oldest first."""
        return list(self._requests)

    def clear_requests(self) -> None:
        self._requests.clear()

    def enqueue_failures(self, mode: FailureMode, count: int) -> None:
        self._failures.extend([mode] * count)

    def next_failure(self) -> FailureMode | None:
        """Pop the failure for the current request, if any is queued."""
        return self._failures.popleft() if self._failures else None

    def queued_failures(self) -> list[FailureMode]:
        return list(self._failures)

    def clear_failures(self) -> None:
        self._failures.clear()
