"""The gateway: HTTP, tokens, per-user limits, attachments and dictation.

Each setting is declared once, here; `docs/configuration.md` and `.env.example` follow from it
(`python -m shared.settings`).
"""

from __future__ import annotations

from shared.settings.declaration import setting, settings_group
from shared.settings.parsers import (
    Choice,
    Flag,
    Integer,
    Number,
    Origins,
    PemText,
    Seconds,
    Text,
    Url,
)
from shared.settings.redaction import Redacted

PORT = Integer(minimum=1, maximum=65535)


def base64_size(raw_bytes: int) -> int:
    """Length of `raw_bytes` bytes once base64-encoded, as they travel inline to the model."""
    return (raw_bytes + 2) // 3 * 4


@settings_group
class GatewaySettings(Redacted):
    """The gateway: HTTP, streams and admission of turns."""

    host: str = setting(
        "GATEWAY_HOST", Text(), default="127.0.0.1", doc="where the gateway listens"
    )
    port: int = setting("GATEWAY_PORT", PORT, default=8000, doc="the gateway's port")
    allowed_origins: tuple[str, ...] = setting(
        "ALLOWED_ORIGINS",
        Origins(),
        default=(),
        doc="exact origins allowed by CORS with credentials, and whose cookie-authenticated "
        "requests are accepted (comma-separated); `*` is refused",
        shown_default="none",
        read_by="gateway",
    )
    max_body_bytes: int = setting(
        "CHATKIT_MAX_BODY_BYTES",
        Integer(minimum=1024),
        default=1024 * 1024,
        doc="largest accepted /chatkit request body (larger: 413)",
        read_by="gateway",
    )
    turn_start_timeout_s: float = setting(
        "TURN_START_TIMEOUT_S",
        Seconds(),
        default=30.0,
        doc="longest a queued turn waits for a worker before the user gets a retryable error",
        read_by="gateway",
    )
    sse_heartbeat_s: float = setting(
        "SSE_HEARTBEAT_S",
        Seconds(),
        default=15.0,
        doc="an SSE comment is sent after this much silence, so proxies keep the stream open",
        read_by="gateway",
    )
    on_disconnect: str = setting(
        "ON_DISCONNECT",
        Choice("cancel", "continue"),
        default="continue",
        doc="`continue`: a dropped connection leaves the turn running (the client re-joins it "
        "with `Last-Event-ID`, or a reload shows it; the stop button is an explicit "
        "`POST /chatkit/turns/{id}/cancel`, see docs/frontend.md); `cancel`: any departing "
        "client stops its turn (chatkit keeps the partial answer)",
        read_by="gateway",
    )
    multitask: str = setting(
        "MULTITASK",
        Choice("reject", "enqueue"),
        default="reject",
        doc="a new turn on a thread whose turn still runs is refused (`reject`) or waits for "
        "it (`enqueue`)",
        read_by="gateway",
    )
    max_queue_depth: int = setting(
        "MAX_QUEUE_DEPTH",
        Integer(minimum=1),
        default=1000,
        doc="turns waiting for a worker beyond which new turns are refused",
        read_by="gateway",
    )
    drain_s: float = setting(
        "GATEWAY_DRAIN_S",
        Seconds(),
        default=30.0,
        doc="on SIGTERM, open streams get this long to finish",
        read_by="gateway",
    )
    chatkit_domain_key: str = setting(
        "CHATKIT_DOMAIN_KEY",
        Text(),
        default="local-dev",
        doc="the ChatKit domain key the dev page at `/` passes to ChatKit.js (`local-dev` "
        "works on localhost)",
        read_by="gateway",
    )


@settings_group
class AuthSettings(Redacted):
    """User tokens: set exactly one of `JWT_SECRET`, `JWT_PUBLIC_KEY` and `JWT_JWKS_URL`."""

    jwt_secret: str | None = setting(
        "JWT_SECRET",
        Text(),
        default=None,
        doc="HS256 secret shared with the identity provider, at least 32 bytes",
        shown_default="one of three",
        read_by="gateway",
        secret=True,
    )
    jwt_public_key: str | None = setting(
        "JWT_PUBLIC_KEY",
        PemText(),
        default=None,
        doc="PEM public key that verifies tokens (RSA >= 2048 bits: RS256; EC P-256: ES256; "
        "Ed25519: EdDSA)",
        shown_default="one of three",
        read_by="gateway",
    )
    jwks_url: str | None = setting(
        "JWT_JWKS_URL",
        Url("http", "https"),
        default=None,
        doc="the identity provider's JWKS (Better Auth: `<base>/api/auth/jwks`)",
        shown_default="one of three",
        read_by="gateway",
    )
    audience: str | None = setting(
        "JWT_AUDIENCE", Text(), default=None, doc="required `aud` when set", read_by="gateway"
    )
    issuer: str | None = setting(
        "JWT_ISSUER", Text(), default=None, doc="required `iss` when set", read_by="gateway"
    )
    leeway_s: float = setting(
        "JWT_LEEWAY_S",
        Number(0, 300, unit="seconds"),
        default=30.0,
        doc="clock skew tolerated on `exp`, `nbf` and `iat`",
        read_by="gateway",
    )
    jwks_refresh_cooldown_s: float = setting(
        "JWT_JWKS_COOLDOWN_S",
        Seconds(),
        default=60.0,
        doc="least time between two JWKS fetches caused by unknown `kid`s",
        read_by="gateway",
    )
    jwks_max_age_s: float = setting(
        "JWT_JWKS_MAX_AGE_S",
        Seconds(),
        default=3600.0,
        doc="cached keys are fetched again after this long",
        read_by="gateway",
    )
    cookie_name: str = setting(
        "AUTH_COOKIE_NAME",
        Text(),
        default="auth_token",
        doc="httpOnly cookie carrying the token (or send `Authorization: Bearer`)",
        read_by="gateway",
    )


@settings_group
class LimitSettings(Redacted):
    """Per-user limits (kept in Redis, shared by the gateway replicas)."""

    daily_messages: int = setting(
        "DAILY_MESSAGE_QUOTA",
        Integer(minimum=1),
        default=100,
        doc="turns (messages, retries, tool outputs) per user per UTC day",
        read_by="gateway",
    )
    concurrent_streams: int = setting(
        "MAX_CONCURRENT_STREAMS",
        Integer(minimum=1),
        default=3,
        doc="answers one user may stream at once",
        read_by="gateway",
    )
    stream_lease_s: float = setting(
        "STREAM_LEASE_S",
        Seconds(),
        default=60.0,
        doc="a stream slot left by a crashed gateway is free again after this",
        read_by="gateway",
    )
    anonymous_requests_per_minute: int = setting(
        "ANONYMOUS_RATE_PER_MINUTE",
        Integer(minimum=1),
        default=60,
        doc="requests per client IP per minute without a valid token",
        read_by="gateway",
    )
    max_message_chars: int = setting(
        "MAX_MESSAGE_CHARS",
        Integer(minimum=1),
        default=8000,
        doc="longest user message (text parts together)",
        read_by="gateway",
    )
    body_read_timeout_s: float = setting(
        "BODY_READ_TIMEOUT_S",
        Seconds(),
        default=30.0,
        doc="a client that has not sent its whole body by then gets a 408",
        read_by="gateway",
    )


@settings_group
class AttachmentSettings(Redacted):
    """Image attachments."""

    max_bytes: int = setting(
        "ATTACHMENT_MAX_BYTES",
        Integer(minimum=1),
        default=10 * 1024 * 1024,
        doc="largest image a user may attach",
        read_by="gateway",
    )
    storage: str = setting(
        "ATTACHMENT_STORAGE",
        Choice("postgres", "directory"),
        default="postgres",
        doc="where image bytes live: `postgres` or `directory`",
    )
    directory: str | None = setting(
        "ATTACHMENT_DIR",
        Text(),
        default=None,
        doc="the folder for `ATTACHMENT_STORAGE=directory` (shared by all replicas)",
    )
    public_base_url: str = setting(
        "PUBLIC_BASE_URL",
        Url("http", "https"),
        default="http://127.0.0.1:8000",
        doc="the gateway as browsers reach it, for upload and preview links",
        shown_default="http://GATEWAY_HOST:GATEWAY_PORT",
        read_by="gateway",
        url=True,
    )
    max_per_message: int = setting(
        "ATTACHMENT_MAX_PER_MESSAGE",
        Integer(),
        default=10,
        doc="images one message may carry (each listed once)",
        read_by="gateway",
    )
    max_per_user: int = setting(
        "ATTACHMENT_MAX_PER_USER",
        Integer(),
        default=500,
        doc="images one user may keep (deleting a thread frees its images)",
        read_by="gateway",
    )
    max_bytes_per_user: int = setting(
        "ATTACHMENT_MAX_BYTES_PER_USER",
        Integer(),
        default=500 * 1024 * 1024,
        doc="bytes of images one user may keep",
        read_by="gateway",
    )
    max_inline_bytes: int = setting(
        "MODEL_MAX_INLINE_BYTES",
        Integer(minimum=1),
        default=15_000_000,
        doc="base64 bytes of images inlined in one model request, history included; older "
        "images beyond it go as a short text note (Gemini refuses requests over 20 MB, text "
        "included, so keep this below that)",
    )


@settings_group
class TranscriptionSettings(Redacted):
    """Dictation (`input.transcribe`) through Gemini."""

    enabled: bool = setting(
        "TRANSCRIPTION_ENABLED",
        Flag(),
        default=False,
        doc="dictation through Gemini; needs `GEMINI_API_KEY` on the gateway too",
        read_by="gateway",
    )
    max_bytes: int = setting(
        "TRANSCRIPTION_MAX_BYTES",
        Integer(minimum=1),
        default=5 * 1024 * 1024,
        doc="largest audio clip accepted",
        read_by="gateway",
    )
    daily_quota: int = setting(
        "TRANSCRIPTION_DAILY_QUOTA",
        Integer(),
        default=100,
        doc="dictated clips per user per UTC day",
        read_by="gateway",
    )
