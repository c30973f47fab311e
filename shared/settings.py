"""Typed configuration, read once from the environment at start-up.

Every service builds one `Settings` from a mapping (`Settings.from_env(os.environ)`); tests pass a
plain dict. All problems are collected and reported together, one line per variable.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from shared.auth.public_keys import load_public_key
from shared.secret_strength import placeholder_problem, weak_secret_problem

DEFAULT_GEMINI_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai/"
DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"

T = TypeVar("T")

MIN_HS256_SECRET_BYTES = 32
"""RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256 bits)."""

REDACTED = "***"
_SECRET = {"secret": True}
_URL = {"url": True}
_HEADERS = {"headers": True}


def base64_size(raw_bytes: int) -> int:
    """Length of `raw_bytes` bytes once base64-encoded, as they travel inline to the model."""
    return (raw_bytes + 2) // 3 * 4


def redact_url(url: str) -> str:
    """`url` without the password of its user-info part (DSNs often carry one)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # unparseable (e.g. a bad port): show nothing of it
        return REDACTED
    if password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{REDACTED}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


class _Redacted:
    """`repr`/`str` that never show secrets: settings end up in logs and tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                text = repr(REDACTED)
            elif f.metadata.get("url") and isinstance(value, str):
                text = repr(redact_url(value))
            elif f.metadata.get("headers"):
                # Header values are often credentials (Authorization, API keys): names only.
                text = repr(tuple((name, REDACTED) for name, _ in value))
            else:
                text = repr(value)
            shown.append(f"{f.name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__


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

    def seconds_between(self, name: str, default: float, low: float, high: float) -> float:
        def parse(raw: str) -> float:
            number = float(raw)
            if not low <= number <= high:
                raise ValueError
            return number

        return self._parsed(name, default, parse, f"a number of seconds from {low} to {high}")

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

    def mcp_servers(self, name: str) -> tuple[McpServerSettings, ...]:
        value = self._raw(name)
        if value is None:
            return ()
        try:
            return parse_mcp_servers(value)
        except ValueError as exc:
            self.problems.append(f"{name} {exc}")
            return ()

    def csv(self, name: str) -> tuple[str, ...]:
        value = self._raw(name)
        if value is None:
            return ()
        return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True, slots=True, repr=False)
class DatabaseSettings(_Redacted):
    url: str = field(metadata=_URL)
    """`DATABASE_URL`: PostgreSQL DSN, e.g. postgresql://user@127.0.0.1:5432/taskchat."""
    pool_min_size: int = 1
    """`DATABASE_POOL_MIN`: connections opened at start-up."""
    pool_max_size: int = 10
    """`DATABASE_POOL_MAX`: upper bound on connections per process."""


@dataclass(frozen=True, slots=True, repr=False)
class RedisSettings(_Redacted):
    url: str = field(metadata=_URL)
    """`REDIS_URL`: redis://host:port/db."""


@dataclass(frozen=True, slots=True, repr=False)
class GeminiSettings(_Redacted):
    api_key: str = field(metadata=_SECRET)
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


@dataclass(frozen=True, slots=True, repr=False)
class AttachmentSettings(_Redacted):
    max_bytes: int = 10 * 1024 * 1024
    """`ATTACHMENT_MAX_BYTES`: largest image a user may attach."""
    storage: str = "postgres"
    """`ATTACHMENT_STORAGE`: where image bytes live: `postgres` or `directory`."""
    directory: str | None = None
    """`ATTACHMENT_DIR`: the folder for `ATTACHMENT_STORAGE=directory` (shared by all replicas)."""
    public_base_url: str = field(default="http://127.0.0.1:8000", metadata=_URL)
    """`PUBLIC_BASE_URL`: the gateway as browsers reach it, for upload and preview links
    (default: http://GATEWAY_HOST:GATEWAY_PORT)."""
    max_per_message: int = 10
    """`ATTACHMENT_MAX_PER_MESSAGE`: images one message may carry (each listed once)."""
    max_per_user: int = 500
    """`ATTACHMENT_MAX_PER_USER`: images one user may keep (deleting a thread frees its images)."""
    max_bytes_per_user: int = 500 * 1024 * 1024
    """`ATTACHMENT_MAX_BYTES_PER_USER`: bytes of images one user may keep."""
    max_inline_bytes: int = 15_000_000
    """`MODEL_MAX_INLINE_BYTES`: base64 bytes of images inlined in one model request, history
    included; older images beyond it go as a short text note. Gemini refuses requests over 20 MB
    (text included), so keep this below that."""


@dataclass(frozen=True, slots=True)
class TranscriptionSettings:
    enabled: bool = False
    """`TRANSCRIPTION_ENABLED`: dictation (`input.transcribe`) through Gemini."""
    max_bytes: int = 5 * 1024 * 1024
    """`TRANSCRIPTION_MAX_BYTES`: largest audio clip accepted."""
    daily_quota: int = 100
    """`TRANSCRIPTION_DAILY_QUOTA`: dictated clips per user per UTC day."""


@dataclass(frozen=True, slots=True, repr=False)
class AuthSettings(_Redacted):
    jwt_secret: str | None = field(default=None, metadata=_SECRET)
    """`JWT_SECRET`: HS256 secret (32 bytes or more) shared with the identity provider."""
    jwt_public_key: str | None = None
    """`JWT_PUBLIC_KEY`: PEM public key (RSA, EC P-256 or Ed25519) that verifies tokens."""
    jwks_url: str | None = None
    """`JWT_JWKS_URL`: the identity provider's JWKS (Better Auth: <base>/api/auth/jwks)."""
    audience: str | None = None
    """`JWT_AUDIENCE`: required `aud` when set."""
    issuer: str | None = None
    """`JWT_ISSUER`: required `iss` when set."""
    leeway_s: float = 30.0
    """`JWT_LEEWAY_S`: clock skew tolerated on `exp`, `nbf` and `iat`."""
    jwks_refresh_cooldown_s: float = 60.0
    """`JWT_JWKS_COOLDOWN_S`: least time between two JWKS fetches caused by unknown `kid`s."""
    jwks_max_age_s: float = 3600.0
    """`JWT_JWKS_MAX_AGE_S`: cached keys are fetched again after this long."""
    cookie_name: str = "auth_token"
    """`AUTH_COOKIE_NAME`: httpOnly cookie carrying the token."""


@dataclass(frozen=True, slots=True)
class LimitSettings:
    daily_messages: int = 100
    """`DAILY_MESSAGE_QUOTA`: turns (messages, retries, tool outputs) per user per UTC day."""
    concurrent_streams: int = 3
    """`MAX_CONCURRENT_STREAMS`: answers one user may stream at once."""
    stream_lease_s: float = 60.0
    """`STREAM_LEASE_S`: a stream slot left by a crashed gateway is free again after this."""
    anonymous_requests_per_minute: int = 60
    """`ANONYMOUS_RATE_PER_MINUTE`: requests per client IP per minute without a valid token."""
    max_message_chars: int = 8000
    """`MAX_MESSAGE_CHARS`: longest user message (text parts together)."""
    body_read_timeout_s: float = 30.0
    """`BODY_READ_TIMEOUT_S`: a client that has not sent its whole body by then gets a 408."""


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    host: str = "127.0.0.1"
    """`GATEWAY_HOST`."""
    port: int = 8000
    """`GATEWAY_PORT`."""
    allowed_origins: tuple[str, ...] = ()
    """`ALLOWED_ORIGINS`: exact origins allowed by CORS (comma-separated); never a wildcard."""
    max_body_bytes: int = 1024 * 1024
    """`CHATKIT_MAX_BODY_BYTES`: largest accepted /chatkit request body."""
    turn_start_timeout_s: float = 30.0
    """`TURN_START_TIMEOUT_S`: longest a queued turn waits for a worker before the user is told."""
    sse_heartbeat_s: float = 15.0
    """`SSE_HEARTBEAT_S`: an SSE comment is sent after this much silence, so proxies keep the
    stream open."""
    on_disconnect: str = "cancel"
    """`ON_DISCONNECT`: `cancel` stops the turn when its client goes away (chatkit keeps the
    partial answer); `continue` lets it finish, and a reload shows the whole answer."""
    multitask: str = "reject"
    """`MULTITASK`: a new turn on a thread whose turn still runs is refused (`reject`) or waits
    for it (`enqueue`)."""
    max_queue_depth: int = 1000
    """`MAX_QUEUE_DEPTH`: turns waiting for a worker beyond which new turns are refused."""
    drain_s: float = 30.0
    """`GATEWAY_DRAIN_S`: on SIGTERM, open streams get this long to finish."""
    chatkit_domain_key: str = "local-dev"
    """`CHATKIT_DOMAIN_KEY`: the ChatKit domain key the dev page at `/` passes to ChatKit.js
    (register the domain with OpenAI for one; `local-dev` is for localhost)."""


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    max_concurrent_turns: int = 50
    """`WORKER_MAX_TURNS`: turns one worker process runs at once (they are I/O bound)."""
    turn_timeout_s: float = 120.0
    """`TURN_TIMEOUT_S`: a turn running longer than this is stopped with an error event."""
    heartbeat_interval_s: float = 2.0
    """`TURN_HEARTBEAT_S`: how often a running turn proves its worker is alive."""
    idle_poll_s: float = 1.0
    """`WORKER_IDLE_POLL_S`: longest an idle worker waits for a wake-up before polling anyway."""
    drain_s: float = 30.0
    """`WORKER_DRAIN_S`: on SIGTERM, running turns get this long to finish before they are
    cancelled (new turns are left to other workers at once)."""

    @property
    def liveness_ttl_s(self) -> float:
        """A worker (or a turn) silent for this long is taken for dead: three missed heartbeats."""
        return 3 * self.heartbeat_interval_s


LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True, repr=False)
class ObservabilitySettings(_Redacted):
    log_level: str = "INFO"
    """`LOG_LEVEL`: DEBUG, INFO, WARNING, ERROR or CRITICAL (case-insensitive)."""
    log_format: str = "text"
    """`LOG_FORMAT`: `json` (one JSON object per line, for log collectors; the container image's
    default) or `text` (readable, for a terminal)."""
    otlp_endpoint: str | None = field(default=None, metadata=_URL)
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
    log_pseudonym_secret: str | None = field(default=None, metadata=_SECRET)
    """`LOG_PSEUDONYM_SECRET`: key of the HMAC that turns user ids into log pseudonyms; set the
    same value on every process to group one user's lines across them. Unset = a random key per
    process (pseudonyms then differ between processes and restarts)."""


@dataclass(frozen=True, slots=True, repr=False)
class McpServerSettings(_Redacted):
    """One other MCP server whose tools the agent may use."""

    url: str = field(metadata=_URL)
    """Its streamable HTTP endpoint, e.g. http://127.0.0.1:9000/mcp."""
    headers: tuple[tuple[str, str], ...] = field(default=(), metadata=_HEADERS)
    """Sent with every request (e.g. its own Authorization)."""
    name: str = ""
    """Shown in logs and prefixed to its tool names; defaults to the URL's host and port."""


@dataclass(frozen=True, slots=True)
class McpClientSettings:
    servers: tuple[McpServerSettings, ...] = ()
    """`MCP_SERVERS`: other MCP servers for the agent; a JSON list of (or one)
    `{"url": ..., "headers": {...}, "name": ...}` objects, or comma-separated URLs."""
    timeout_s: float = 10.0
    """`MCP_SERVER_TIMEOUT_S`: longest wait to connect to one, and for each of its tool calls."""


def parse_mcp_servers(raw: str) -> tuple[McpServerSettings, ...]:
    """`MCP_SERVERS` as settings; `ValueError` saying what is wrong."""
    text = raw.strip()
    if not text.startswith(("[", "{")):
        entries: list[object] = [url.strip() for url in text.split(",") if url.strip()]
    else:
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"is not valid JSON ({exc})") from exc
        entries = parsed if isinstance(parsed, list) else [parsed]
    return tuple(_mcp_server(entry, index) for index, entry in enumerate(entries))


def _mcp_server(entry: object, index: int) -> McpServerSettings:
    where = f"entry {index + 1}"
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a URL or an object with a url")
    url, headers, name = entry.get("url"), entry.get("headers", {}), entry.get("name")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"{where} needs a url starting with http:// or https://")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError(f"{where}: headers must be an object of strings")
    unknown = set(entry) - {"url", "headers", "name"}
    if unknown:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError(f"{where}: name must be a non-empty string")
    # Host and port only: user-info in the URL (a password) must not name tools or log lines.
    default_name = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
    return McpServerSettings(url=url, headers=tuple(headers.items()), name=name or default_name)


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
    mcp: McpClientSettings = field(default_factory=McpClientSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
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
        auth = _auth_settings(r)
        limits = LimitSettings(
            daily_messages=r.integer("DAILY_MESSAGE_QUOTA", 100, minimum=1),
            concurrent_streams=r.integer("MAX_CONCURRENT_STREAMS", 3, minimum=1),
            stream_lease_s=r.seconds("STREAM_LEASE_S", 60.0),
            anonymous_requests_per_minute=r.integer("ANONYMOUS_RATE_PER_MINUTE", 60, minimum=1),
            max_message_chars=r.integer("MAX_MESSAGE_CHARS", 8000, minimum=1),
            body_read_timeout_s=r.seconds("BODY_READ_TIMEOUT_S", 30.0),
        )
        gateway = GatewaySettings(
            host=r.text("GATEWAY_HOST", "127.0.0.1"),
            port=r.integer("GATEWAY_PORT", 8000, minimum=1),
            allowed_origins=r.csv("ALLOWED_ORIGINS"),
            max_body_bytes=r.integer("CHATKIT_MAX_BODY_BYTES", 1024 * 1024, minimum=1024),
            turn_start_timeout_s=r.seconds("TURN_START_TIMEOUT_S", 30.0),
            sse_heartbeat_s=r.seconds("SSE_HEARTBEAT_S", 15.0),
            on_disconnect=r.choice("ON_DISCONNECT", ("cancel", "continue")) or "cancel",
            multitask=r.choice("MULTITASK", ("reject", "enqueue")) or "reject",
            max_queue_depth=r.integer("MAX_QUEUE_DEPTH", 1000, minimum=1),
            drain_s=r.seconds("GATEWAY_DRAIN_S", 30.0),
            chatkit_domain_key=r.text("CHATKIT_DOMAIN_KEY", "local-dev"),
        )
        worker = WorkerSettings(
            max_concurrent_turns=r.integer("WORKER_MAX_TURNS", 50, minimum=1),
            turn_timeout_s=r.seconds("TURN_TIMEOUT_S", 120.0),
            heartbeat_interval_s=r.seconds("TURN_HEARTBEAT_S", 2.0),
            idle_poll_s=r.seconds("WORKER_IDLE_POLL_S", 1.0),
            drain_s=r.seconds("WORKER_DRAIN_S", 30.0),
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
            max_per_message=r.integer("ATTACHMENT_MAX_PER_MESSAGE", 10, minimum=0),
            max_per_user=r.integer("ATTACHMENT_MAX_PER_USER", 500, minimum=0),
            max_bytes_per_user=r.integer("ATTACHMENT_MAX_BYTES_PER_USER", 500 * 1024 * 1024),
            max_inline_bytes=r.integer("MODEL_MAX_INLINE_BYTES", 15_000_000, minimum=1),
        )
        encoded = base64_size(attachments.max_bytes)
        if encoded > attachments.max_inline_bytes:
            r.problems.append(
                f"ATTACHMENT_MAX_BYTES={attachments.max_bytes} is {encoded} bytes as base64, more"
                f" than MODEL_MAX_INLINE_BYTES={attachments.max_inline_bytes}: an image that"
                " large could never be sent to the model"
            )
        if attachments.storage == "directory" and attachments.directory is None:
            r.problems.append("ATTACHMENT_STORAGE=directory needs ATTACHMENT_DIR (a folder path)")
        transcription = TranscriptionSettings(
            enabled=r.flag("TRANSCRIPTION_ENABLED", False),
            max_bytes=r.integer("TRANSCRIPTION_MAX_BYTES", 5 * 1024 * 1024, minimum=1),
            daily_quota=r.integer("TRANSCRIPTION_DAILY_QUOTA", 100, minimum=0),
        )
        if transcription.enabled and not needs_model and not gemini.api_key:
            r.problems.append("TRANSCRIPTION_ENABLED=true needs GEMINI_API_KEY (it uses Gemini)")
        mcp = McpClientSettings(
            servers=r.mcp_servers("MCP_SERVERS"),
            timeout_s=r.seconds("MCP_SERVER_TIMEOUT_S", 10.0),
        )
        observability = _observability(r)
        _placeholders(
            r,
            {
                "GEMINI_API_KEY": gemini.api_key,
                "DATABASE_URL's password": _url_password(database.url),
                "REDIS_URL's password": _url_password(redis.url),
            },
        )
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
            mcp,
            limits,
            observability,
        )


def _auth_settings(r: _Reader) -> AuthSettings:
    """Exactly one way to verify tokens: an HS256 secret, a PEM public key or a JWKS URL."""
    secret = r.optional("JWT_SECRET")
    public_key = r.optional("JWT_PUBLIC_KEY")
    if public_key is not None:  # env files often carry a PEM on one line with literal \n
        public_key = public_key.replace("\\n", "\n")
    jwks_url = r.optional("JWT_JWKS_URL")
    chosen = [
        name
        for name, value in (
            ("JWT_SECRET", secret),
            ("JWT_PUBLIC_KEY", public_key),
            ("JWT_JWKS_URL", jwks_url),
        )
        if value is not None
    ]
    if not chosen:
        r.problems.append(
            "JWT_SECRET is not set (the HS256 secret that signs user tokens; or set "
            "JWT_PUBLIC_KEY or JWT_JWKS_URL to verify an identity provider's tokens)"
        )
    elif len(chosen) > 1:
        r.problems.append(f"set only one of {', '.join(chosen)} (one way to verify tokens)")
    if secret is not None and len(secret.encode()) < MIN_HS256_SECRET_BYTES:
        r.problems.append(
            f"JWT_SECRET is {len(secret.encode())} bytes; HS256 needs at least "
            f"{MIN_HS256_SECRET_BYTES} (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )
    elif secret is not None and (weak := weak_secret_problem("JWT_SECRET", secret)):
        r.problems.append(weak)
    if public_key is not None:
        try:
            load_public_key(public_key)
        except ValueError as exc:
            r.problems.append(f"JWT_PUBLIC_KEY is not a usable PEM public key: {exc}")
    if jwks_url is not None:
        jwks_url = r.url("JWT_JWKS_URL", None, ("http", "https"), "")
    return AuthSettings(
        jwt_secret=secret,
        jwt_public_key=public_key,
        jwks_url=jwks_url,
        audience=r.optional("JWT_AUDIENCE"),
        issuer=r.optional("JWT_ISSUER"),
        leeway_s=r.seconds_between("JWT_LEEWAY_S", 30.0, 0, 300),
        jwks_refresh_cooldown_s=r.seconds("JWT_JWKS_COOLDOWN_S", 60.0),
        jwks_max_age_s=r.seconds("JWT_JWKS_MAX_AGE_S", 3600.0),
        cookie_name=r.text("AUTH_COOKIE_NAME", "auth_token"),
    )


def _secret(r: _Reader, name: str) -> str | None:
    """An optional signing secret, refused when it is a placeholder or guessable."""
    value = r.optional(name)
    if value is not None and (weak := weak_secret_problem(name, value)):
        r.problems.append(weak)
    return value


def _placeholders(r: _Reader, values: Mapping[str, str]) -> None:
    """Credentials copied from an example (`CHANGE_ME`) are refused, whatever their length."""
    for name, value in values.items():
        if value and (problem := placeholder_problem(name, value)):
            r.problems.append(problem)


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""


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
        log_pseudonym_secret=_secret(r, "LOG_PSEUDONYM_SECRET"),
    )
