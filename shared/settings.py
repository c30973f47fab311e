"""Typed configuration, read once from the environment at start-up.

Every service builds one `Settings` from a mapping (`Settings.from_env(os.environ)`); tests pass a
plain dict. All problems are collected and reported together, one line per variable.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TypeVar

DEFAULT_GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"

T = TypeVar("T")


class SettingsError(ValueError):
    """One or more environment variables are missing or invalid."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid configuration:\n" + "\n".join(f"  - {p}" for p in problems))


class _Reader:
    """Reads typed values from a mapping, collecting every problem instead of stopping at one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.problems: list[str] = []

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return value.strip() if value is not None and value.strip() != "" else None

    def required(self, name: str, hint: str) -> str:
        value = self._raw(name)
        if value is None:
            self.problems.append(f"{name} is not set ({hint})")
            return ""
        return value

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def optional(self, name: str) -> str | None:
        return self._raw(name)

    def _parsed(self, name: str, default: T, parse: Callable[[str], T], what: str) -> T:
        value = self._raw(name)
        if value is None:
            return default
        try:
            return parse(value)
        except ValueError:
            self.problems.append(f"{name}={value!r} is not {what}")
            return default

    def integer(self, name: str, default: int, *, minimum: int = 0) -> int:
        def parse(raw: str) -> int:
            number = int(raw)
            if number < minimum:
                raise ValueError
            return number

        return self._parsed(name, default, parse, f"an integer >= {minimum}")

    def seconds(self, name: str, default: float) -> float:
        def parse(raw: str) -> float:
            number = float(raw)
            if number <= 0:
                raise ValueError
            return number

        return self._parsed(name, default, parse, "a positive number of seconds")

    def optional_int(self, name: str, *, minimum: int) -> int | None:
        if self._raw(name) is None:
            return None
        return self.integer(name, 0, minimum=minimum)

    def optional_float(self, name: str, low: float, high: float) -> float | None:
        def parse(raw: str) -> float:
            number = float(raw)
            if not low <= number <= high:
                raise ValueError
            return number

        return self._parsed(name, None, parse, f"a number from {low} to {high}")

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        def parse(raw: str) -> str:
            if raw not in allowed:
                raise ValueError
            return raw

        return self._parsed(name, None, parse, "one of " + ", ".join(allowed))

    def flag(self, name: str, default: bool) -> bool:
        def parse(raw: str) -> bool:
            lowered = raw.lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError

        return self._parsed(name, default, parse, "a boolean (true/false)")

    def url(self, name: str, default: str | None, schemes: tuple[str, ...], hint: str) -> str:
        value = self._raw(name) or default
        if value is None:
            self.problems.append(f"{name} is not set ({hint})")
            return ""
        if not value.startswith(tuple(f"{s}://" for s in schemes)):
            allowed = ", ".join(f"{s}://" for s in schemes)
            self.problems.append(f"{name}={value!r} must start with one of {allowed}")
        return value

    def csv(self, name: str) -> tuple[str, ...]:
        value = self._raw(name)
        if value is None:
            return ()
        return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    url: str
    """`DATABASE_URL`: PostgreSQL DSN, e.g. postgresql://user@127.0.0.1:5432/taskchat."""
    pool_min_size: int = 1
    """`DATABASE_POOL_MIN`: connections opened at start-up."""
    pool_max_size: int = 10
    """`DATABASE_POOL_MAX`: upper bound on connections per process."""


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str
    """`REDIS_URL`: redis://host:port/db."""


@dataclass(frozen=True, slots=True)
class GeminiSettings:
    api_key: str
    """`GEMINI_API_KEY`: key for Gemini's OpenAI endpoint (any value for the emulator)."""
    base_url: str = DEFAULT_GEMINI_BASE_URL
    """`GEMINI_BASE_URL`: the OpenAI-compatible endpoint."""
    model: str = DEFAULT_GEMINI_MODEL
    """`GEMINI_MODEL`: model name sent with each request."""
    request_timeout_s: float = 120.0
    """`GEMINI_TIMEOUT_S`: per-request timeout for the model call."""
    allowed_models: tuple[str, ...] = (DEFAULT_GEMINI_MODEL,)
    """`GEMINI_ALLOWED_MODELS`: models a request may pick via ChatKit's `inference_options`
    (comma-separated; `GEMINI_MODEL` is always allowed)."""
    temperature: float | None = None
    """`GEMINI_TEMPERATURE`: sampling temperature (0-2); unset = the model's default."""
    max_output_tokens: int | None = None
    """`GEMINI_MAX_OUTPUT_TOKENS`: cap on tokens per model call; unset = the model's default."""
    reasoning_effort: str | None = None
    """`GEMINI_REASONING_EFFORT`: none|minimal|low|medium|high (exclusive with thinking budget)."""
    thinking_budget: int | None = None
    """`GEMINI_THINKING_BUDGET`: tokens of thinking, sent as `extra_body.google.thinking_config`."""
    include_thoughts: bool = False
    """`GEMINI_INCLUDE_THOUGHTS`: ask for thought summaries (in `thinking_config`)."""
    max_retries: int = 3
    """`GEMINI_MAX_RETRIES`: retries of a 429/500/503 before any token was streamed."""
    retry_max_delay_s: float = 10.0
    """`GEMINI_RETRY_MAX_DELAY_S`: longest single wait between retries (Retry-After included)."""


@dataclass(frozen=True, slots=True)
class AgentSettings:
    max_tool_rounds: int = 10
    """`AGENT_MAX_TOOL_ROUNDS`: model calls per turn before the turn stops with a message."""
    history_items: int = 50
    """`AGENT_HISTORY_ITEMS`: newest thread items sent to the model; bounds a turn's cost."""
    system_prompt_file: str | None = None
    """`SYSTEM_PROMPT_FILE`: a file whose text replaces the built-in system prompt."""


@dataclass(frozen=True, slots=True)
class AttachmentSettings:
    max_bytes: int = 10 * 1024 * 1024
    """`ATTACHMENT_MAX_BYTES`: largest image a user may attach."""
    storage: str = "postgres"
    """`ATTACHMENT_STORAGE`: where image bytes live: `postgres` or `directory`."""
    directory: str | None = None
    """`ATTACHMENT_DIR`: the folder for `ATTACHMENT_STORAGE=directory` (shared by all replicas)."""
    public_base_url: str = "http://127.0.0.1:8000"
    """`PUBLIC_BASE_URL`: the gateway as browsers reach it, for upload and preview links
    (default: http://GATEWAY_HOST:GATEWAY_PORT)."""


@dataclass(frozen=True, slots=True)
class TranscriptionSettings:
    enabled: bool = False
    """`TRANSCRIPTION_ENABLED`: dictation (`input.transcribe`) through Gemini."""
    max_bytes: int = 5 * 1024 * 1024
    """`TRANSCRIPTION_MAX_BYTES`: largest audio clip accepted."""


@dataclass(frozen=True, slots=True)
class AuthSettings:
    jwt_secret: str
    """`JWT_SECRET`: HS256 secret that signs user tokens."""
    cookie_name: str = "auth_token"
    """`AUTH_COOKIE_NAME`: httpOnly cookie carrying the token."""


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    """`GATEWAY_HOST`."""
    port: int = 8000
    """`GATEWAY_PORT`."""
    allowed_origins: tuple[str, ...] = ()
    """`ALLOWED_ORIGINS`: exact origins allowed by CORS (comma-separated); never a wildcard."""
    max_body_bytes: int = 1_000_000
    """`CHATKIT_MAX_BODY_BYTES`: largest accepted /chatkit request body."""
    turn_start_timeout_s: float = 30.0
    """`TURN_START_TIMEOUT_S`: longest a queued turn waits for a worker before the user is told."""
    chatkit_domain_key: str = "local-dev"
    """`CHATKIT_DOMAIN_KEY`: the ChatKit domain key the dev page at `/` passes to ChatKit.js
    (register the domain with OpenAI for one; `local-dev` is for localhost)."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_concurrent_turns: int = 50
    """`WORKER_MAX_TURNS`: turns one worker process runs at once (they are I/O bound)."""
    turn_timeout_s: float = 300.0
    """`TURN_TIMEOUT_S`: a turn running longer than this is stopped with an error event."""
    heartbeat_interval_s: float = 2.0
    """`TURN_HEARTBEAT_S`: how often a running turn proves its worker is alive."""
    idle_poll_s: float = 1.0
    """`WORKER_IDLE_POLL_S`: longest an idle worker waits for a wake-up before polling anyway."""

    @property
    def liveness_ttl_s(self) -> float:
        """A worker (or a turn) silent for this long is taken for dead: three missed heartbeats."""
        return 3 * self.heartbeat_interval_s


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class ObservabilitySettings:
    log_level: str = "INFO"
    """`LOG_LEVEL`: DEBUG, INFO, WARNING, ERROR or CRITICAL (case-insensitive)."""
    log_format: str = "text"
    """`LOG_FORMAT`: `json` (one JSON object per line, for log collectors; the container image's
    default) or `text` (readable, for a terminal)."""
    otlp_endpoint: str | None = None
    """`OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP/HTTP collector base URL (e.g. http://otel:4318);
    unset = no tracing. Needs the `otel` extra installed."""
    service_name: str | None = None
    """`OTEL_SERVICE_NAME`: service name on exported spans (default: taskchat-gateway or
    taskchat-worker)."""
    worker_health_port: int = 0
    """`WORKER_HEALTH_PORT`: a worker serves `/healthz` and `/metrics` on this port; 0 = off
    (the default, so several workers can share a laptop; the container image sets 8001)."""
    worker_health_host: str = "127.0.0.1"
    """`WORKER_HEALTH_HOST`: interface of the worker's health and metrics port."""


@dataclass(frozen=True, slots=True)
class Settings:
    database: DatabaseSettings
    redis: RedisSettings
    gemini: GeminiSettings
    agent: AgentSettings
    auth: AuthSettings
    gateway: GatewaySettings
    worker: WorkerSettings
    attachments: AttachmentSettings
    transcription: TranscriptionSettings
    observability: ObservabilitySettings = ObservabilitySettings()

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, needs_model: bool = True) -> Settings:
        """Build settings from `environ`; raise `SettingsError` listing every problem found.

        `needs_model=False` is for processes that never call Gemini (the gateway, `migrate`),
        so they do not demand an API key they would not use.
        """
        r = _Reader(environ)
        database = DatabaseSettings(
            url=r.url(
                "DATABASE_URL",
                None,
                ("postgresql", "postgres"),
                "a PostgreSQL DSN such as postgresql://postgres@127.0.0.1:5432/taskchat",
            ),
            pool_min_size=r.integer("DATABASE_POOL_MIN", 1),
            pool_max_size=r.integer("DATABASE_POOL_MAX", 10, minimum=1),
        )
        redis = RedisSettings(
            url=r.url(
                "REDIS_URL", None, ("redis", "rediss", "unix"), "e.g. redis://127.0.0.1:6379/0"
            )
        )
        gemini = GeminiSettings(
            api_key=(
                r.required("GEMINI_API_KEY", "a Gemini API key; `make run` starts the emulator")
                if needs_model
                else r.text("GEMINI_API_KEY", "")
            ),
            base_url=r.url("GEMINI_BASE_URL", DEFAULT_GEMINI_BASE_URL, ("http", "https"), ""),
            model=r.text("GEMINI_MODEL", DEFAULT_GEMINI_MODEL),
            request_timeout_s=r.seconds("GEMINI_TIMEOUT_S", 120.0),
            temperature=r.optional_float("GEMINI_TEMPERATURE", 0.0, 2.0),
            max_output_tokens=r.optional_int("GEMINI_MAX_OUTPUT_TOKENS", minimum=1),
            reasoning_effort=r.choice(
                "GEMINI_REASONING_EFFORT", ("none", "minimal", "low", "medium", "high")
            ),
            thinking_budget=r.optional_int("GEMINI_THINKING_BUDGET", minimum=-1),
            include_thoughts=r.flag("GEMINI_INCLUDE_THOUGHTS", False),
            max_retries=r.integer("GEMINI_MAX_RETRIES", 3),
            retry_max_delay_s=r.seconds("GEMINI_RETRY_MAX_DELAY_S", 10.0),
        )
        gemini = replace(
            gemini,
            allowed_models=tuple(dict.fromkeys((gemini.model, *r.csv("GEMINI_ALLOWED_MODELS")))),
        )
        if gemini.reasoning_effort is not None and (
            gemini.thinking_budget is not None or gemini.include_thoughts
        ):
            r.problems.append(
                "GEMINI_REASONING_EFFORT cannot be combined with GEMINI_THINKING_BUDGET or "
                "GEMINI_INCLUDE_THOUGHTS (Gemini rejects requests that set both)"
            )
        prompt_file = r.optional("SYSTEM_PROMPT_FILE")
        if prompt_file is not None and not os.path.isfile(prompt_file):
            r.problems.append(f"SYSTEM_PROMPT_FILE={prompt_file!r} is not a readable file")
        agent = AgentSettings(
            max_tool_rounds=r.integer("AGENT_MAX_TOOL_ROUNDS", 10, minimum=1),
            history_items=r.integer("AGENT_HISTORY_ITEMS", 50, minimum=1),
            system_prompt_file=prompt_file,
        )
        auth = AuthSettings(
            jwt_secret=r.required("JWT_SECRET", "the HS256 secret that signs user tokens"),
            cookie_name=r.text("AUTH_COOKIE_NAME", "auth_token"),
        )
        gateway = GatewaySettings(
            host=r.text("GATEWAY_HOST", "127.0.0.1"),
            port=r.integer("GATEWAY_PORT", 8000, minimum=1),
            allowed_origins=r.csv("ALLOWED_ORIGINS"),
            max_body_bytes=r.integer("CHATKIT_MAX_BODY_BYTES", 1_000_000, minimum=1024),
            turn_start_timeout_s=r.seconds("TURN_START_TIMEOUT_S", 30.0),
            chatkit_domain_key=r.text("CHATKIT_DOMAIN_KEY", "local-dev"),
        )
        worker = WorkerSettings(
            max_concurrent_turns=r.integer("WORKER_MAX_TURNS", 50, minimum=1),
            turn_timeout_s=r.seconds("TURN_TIMEOUT_S", 300.0),
            heartbeat_interval_s=r.seconds("TURN_HEARTBEAT_S", 2.0),
            idle_poll_s=r.seconds("WORKER_IDLE_POLL_S", 1.0),
        )
        if "*" in gateway.allowed_origins:
            r.problems.append(
                "ALLOWED_ORIGINS must list exact origins: '*' with cookies would let any site in"
            )
        if gateway.port > 65535:
            r.problems.append(f"GATEWAY_PORT={gateway.port} is not a TCP port")
        attachments = AttachmentSettings(
            max_bytes=r.integer("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1),
            storage=r.choice("ATTACHMENT_STORAGE", ("postgres", "directory")) or "postgres",
            directory=r.optional("ATTACHMENT_DIR"),
            public_base_url=r.url(
                "PUBLIC_BASE_URL",
                f"http://{gateway.host}:{gateway.port}",
                ("http", "https"),
                "the gateway's address as browsers reach it",
            ).rstrip("/"),
        )
        if attachments.storage == "directory" and attachments.directory is None:
            r.problems.append("ATTACHMENT_STORAGE=directory needs ATTACHMENT_DIR (a folder path)")
        transcription = TranscriptionSettings(
            enabled=r.flag("TRANSCRIPTION_ENABLED", False),
            max_bytes=r.integer("TRANSCRIPTION_MAX_BYTES", 5 * 1024 * 1024, minimum=1),
        )
        if transcription.enabled and not needs_model and not gemini.api_key:
            r.problems.append("TRANSCRIPTION_ENABLED=true needs GEMINI_API_KEY (it uses Gemini)")
        observability = _observability(r)
        if r.problems:
            raise SettingsError(r.problems)
        return cls(
            database,
            redis,
            gemini,
            agent,
            auth,
            gateway,
            worker,
            attachments,
            transcription,
            observability,
        )


def _observability(r: _Reader) -> ObservabilitySettings:
    level = r.text("LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        r.problems.append(f"LOG_LEVEL={level!r} is not one of " + ", ".join(LOG_LEVELS))
        level = "INFO"
    endpoint = r.optional("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint is not None:
        endpoint = r.url("OTEL_EXPORTER_OTLP_ENDPOINT", None, ("http", "https"), "")
    port = r.integer("WORKER_HEALTH_PORT", 0)
    if port > 65535:
        r.problems.append(f"WORKER_HEALTH_PORT={port} is not a TCP port")
    return ObservabilitySettings(
        log_level=level,
        log_format=r.choice("LOG_FORMAT", LOG_FORMATS) or "text",
        otlp_endpoint=endpoint,
        service_name=r.optional("OTEL_SERVICE_NAME"),
        worker_health_port=port,
        worker_health_host=r.text("WORKER_HEALTH_HOST", "127.0.0.1"),
    )
