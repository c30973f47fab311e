"""How fast a reply is emitted: config defaults, overridable per request by header.

Per-request headers let one emulator serve both fast functional tests and a slow "realistic"
request (e.g. a test proving the UI shows partial text) without restarting it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from services.gemini_emulator.config import EmulatorConfig

FIRST_TOKEN_DELAY_HEADER = "x-emulator-first-token-delay-ms"
TOKENS_PER_S_HEADER = "x-emulator-tokens-per-s"


@dataclass(frozen=True, slots=True)
class Pacing:
    first_token_delay_s: float
    # Pause between consecutive chunks; 0 streams everything at once.
    chunk_interval_s: float

    def total_s(self, chunk_count: int) -> float:
        """How long a non-streamed reply of `chunk_count` tokens "takes" to generate."""
        return self.first_token_delay_s + self.chunk_interval_s * max(0, chunk_count - 1)


def pacing_for(headers: Mapping[str, str], config: EmulatorConfig) -> Pacing:
    """Pacing for one request; raises ValueError on a malformed override header."""
    delay_ms = _number(headers, FIRST_TOKEN_DELAY_HEADER, config.first_token_delay_ms)
    tokens_per_s = _number(headers, TOKENS_PER_S_HEADER, config.tokens_per_s)
    return Pacing(
        first_token_delay_s=delay_ms / 1000,
        chunk_interval_s=config.tokens_per_chunk / tokens_per_s if tokens_per_s > 0 else 0.0,
    )


def _number(headers: Mapping[str, str], name: str, default: float) -> float:
    raw = headers.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"header {name} must be a number, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"header {name} must be a finite number >= 0")
    return value
