"""Typed emulator configuration, read from environment variables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from services.gemini_emulator.behaviour import Behaviour, BehaviourError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090


# int for counts and milliseconds, float for rates.
_Number = TypeVar("_Number", int, float)


class ConfigError(ValueError):
    """An environment variable or flag holds a value the emulator cannot use."""


@dataclass(frozen=True, slots=True)
class EmulatorConfig:
    """Where the emulator listens and how fast it "generates".

    The pacing knobs exist so load tests and UI work can see realistic time-to-first-token and
    token rates; both default to 0 so unit and integration tests stay fast.
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Delay before the first streamed chunk (or the whole non-streamed reply).
    first_token_delay_ms: int = 0
    # Streamed tokens per second after the first chunk; 0 means "as fast as possible".
    tokens_per_s: float = 0.0
    # Value of the `Retry-After` header on 429 responses.
    retry_after_s: int = 1
    # Tokens (words) per streamed text chunk. Gemini sends a few words per chunk, not one; the
    # token rate stays `tokens_per_s`.
    tokens_per_chunk: int = 1
    # Start-up switches for Gemini's quirks (`EMULATOR_<SWITCH>`; see behaviour.py).
    behaviour: Behaviour = field(default_factory=Behaviour)
    # Key that signs thought signatures; None = 32 random bytes per app. A fixed key keeps
    # signatures valid across restarts (`EMULATOR_SIGNING_KEY`, used as UTF-8 bytes).
    signing_key: str | None = None

    def __post_init__(self) -> None:
        # Fail at start-up rather than with odd sleeps mid-stream.
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be 0..65535, got {self.port}")
        if self.first_token_delay_ms < 0:
            raise ConfigError("first_token_delay_ms must be >= 0")
        if self.tokens_per_s < 0:
            raise ConfigError("tokens_per_s must be >= 0")
        if self.tokens_per_chunk < 1:
            raise ConfigError("tokens_per_chunk must be >= 1")
        if self.retry_after_s < 0:
            raise ConfigError("retry_after_s must be >= 0")

    @property
    def base_url(self) -> str:
        """The URL to give an OpenAI client (`GEMINI_BASE_URL`)."""
        return f"http://{self.host}:{self.port}/v1beta/openai/"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EmulatorConfig:
        """Build a config from `EMULATOR_*` variables; unset or empty ones keep their default."""
        return cls(
            host=env.get("EMULATOR_HOST") or DEFAULT_HOST,
            port=_parse(env, "EMULATOR_PORT", int, DEFAULT_PORT),
            first_token_delay_ms=_parse(env, "EMULATOR_FIRST_TOKEN_DELAY_MS", int, 0),
            tokens_per_s=_parse(env, "EMULATOR_TOKENS_PER_S", float, 0.0),
            tokens_per_chunk=_parse(env, "EMULATOR_TOKENS_PER_CHUNK", int, 1),
            retry_after_s=_parse(env, "EMULATOR_RETRY_AFTER_S", int, 1),
            behaviour=_behaviour(env),
            signing_key=env.get("EMULATOR_SIGNING_KEY") or None,
        )


def _behaviour(env: Mapping[str, str]) -> Behaviour:
    try:
        return Behaviour.from_env(env)
    except BehaviourError as exc:
        raise ConfigError(f"EMULATOR_* behaviour switch: {exc}") from None


def _parse(env: Mapping[str, str], name: str, kind: type[_Number], default: _Number) -> _Number:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
