"""`Settings`: every group, read once from the environment at start-up, checked together."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from shared.auth.public_keys import load_public_key
from shared.gemini_models import setting_problems as model_setting_problems
from shared.secret_strength import placeholder_problem, weak_secret_problem
from shared.settings.connections import DatabaseSettings, RedisSettings
from shared.settings.gateway import (
    AttachmentSettings,
    AuthSettings,
    GatewaySettings,
    LimitSettings,
    TranscriptionSettings,
    base64_size,
)
from shared.settings.model import AgentSettings, GeminiSettings, McpClientSettings
from shared.settings.observability import ObservabilitySettings
from shared.settings.reading import EnvReader, SettingsError
from shared.settings.workers import WorkerSettings

MIN_HS256_SECRET_BYTES = 32
"""RFC 7518 3.2: an HS256 key must be at least as long as the hash output (256 bits)."""

GROUPS = (
    DatabaseSettings,
    RedisSettings,
    GeminiSettings,
    AgentSettings,
    AuthSettings,
    GatewaySettings,
    WorkerSettings,
    AttachmentSettings,
    TranscriptionSettings,
    McpClientSettings,
    LimitSettings,
    ObservabilitySettings,
)
"""Every group, in the order the reference lists them."""


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
    observability: ObservabilitySettings = field(default_factory=ObservabilitySettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, needs_model: bool = True) -> Settings:
        """Build settings from `environ`; raise `SettingsError` listing every problem found.

        `needs_model=False` is for processes that never call Gemini (the gateway, `migrate`),
        so they do not demand an API key they would not use.
        """
        r = EnvReader(environ)
        gateway = r.group(GatewaySettings)
        settings = cls(
            database=r.group(DatabaseSettings),
            redis=r.group(RedisSettings),
            gemini=_gemini(r, needs_model),
            agent=r.group(AgentSettings),
            auth=_auth(r),
            gateway=gateway,
            worker=r.group(WorkerSettings),
            attachments=_attachments(r, gateway),
            transcription=r.group(TranscriptionSettings),
            mcp=r.group(McpClientSettings),
            limits=r.group(LimitSettings),
            observability=r.group(ObservabilitySettings),
        )
        _refuse_weak_credentials(r, settings)
        if settings.transcription.enabled and not needs_model and not settings.gemini.api_key:
            r.problems.append("TRANSCRIPTION_ENABLED=true needs GEMINI_API_KEY (it uses Gemini)")
        if r.problems:
            raise SettingsError(r.problems)
        return settings


def _gemini(r: EnvReader, needs_model: bool) -> GeminiSettings:
    gemini = r.group(GeminiSettings)
    if needs_model and not gemini.api_key:
        r.problems.append(
            "GEMINI_API_KEY is not set (a Gemini API key; `make run` starts the emulator)"
        )
    if gemini.reasoning_effort is not None and (
        gemini.thinking_budget is not None or gemini.include_thoughts
    ):
        r.problems.append(
            "GEMINI_REASONING_EFFORT cannot be combined with GEMINI_THINKING_BUDGET or "
            "GEMINI_INCLUDE_THOUGHTS (Gemini rejects requests that set both)"
        )
    allowed = tuple(dict.fromkeys((gemini.model, *gemini.allowed_models)))
    for model in allowed:
        r.problems += model_setting_problems(
            model,
            reasoning_effort=gemini.reasoning_effort,
            thinking_budget=gemini.thinking_budget,
        )
    return replace(gemini, allowed_models=allowed)


def _attachments(r: EnvReader, gateway: GatewaySettings) -> AttachmentSettings:
    attachments = r.group(AttachmentSettings)
    if r.raw("PUBLIC_BASE_URL") is None:  # the gateway itself, as configured
        attachments = replace(attachments, public_base_url=f"http://{gateway.host}:{gateway.port}")
    attachments = replace(attachments, public_base_url=attachments.public_base_url.rstrip("/"))
    encoded = base64_size(attachments.max_bytes)
    if encoded > attachments.max_inline_bytes:
        r.problems.append(
            f"ATTACHMENT_MAX_BYTES={attachments.max_bytes} is {encoded} bytes as base64, more"
            f" than MODEL_MAX_INLINE_BYTES={attachments.max_inline_bytes}: an image that"
            " large could never be sent to the model"
        )
    if attachments.storage == "directory" and attachments.directory is None:
        r.problems.append("ATTACHMENT_STORAGE=directory needs ATTACHMENT_DIR (a folder path)")
    return attachments


def _auth(r: EnvReader) -> AuthSettings:
    """Exactly one way to verify tokens: an HS256 secret, a PEM public key or a JWKS URL."""
    auth = r.group(AuthSettings)
    chosen = [
        name
        for name, value in (
            ("JWT_SECRET", auth.jwt_secret),
            ("JWT_PUBLIC_KEY", auth.jwt_public_key),
            ("JWT_JWKS_URL", r.raw("JWT_JWKS_URL")),
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
    secret = auth.jwt_secret
    if secret is not None and len(secret.encode()) < MIN_HS256_SECRET_BYTES:
        r.problems.append(
            f"JWT_SECRET is {len(secret.encode())} bytes; HS256 needs at least "
            f"{MIN_HS256_SECRET_BYTES} (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )
    elif secret is not None and (weak := weak_secret_problem("JWT_SECRET", secret)):
        r.problems.append(weak)
    if auth.jwt_public_key is not None:
        try:
            load_public_key(auth.jwt_public_key)
        except ValueError as exc:
            r.problems.append(f"JWT_PUBLIC_KEY is not a usable PEM public key: {exc}")
    return auth


def _refuse_weak_credentials(r: EnvReader, settings: Settings) -> None:
    """Credentials copied from an example (`CHANGE_ME`) are refused, whatever their length, and
    a signing secret must not be guessable."""
    for name, value in (
        ("GEMINI_API_KEY", settings.gemini.api_key),
        ("DATABASE_URL's password", _url_password(settings.database.url)),
        ("REDIS_URL's password", _url_password(settings.redis.url)),
    ):
        if value and (problem := placeholder_problem(name, value)):
            r.problems.append(problem)
    pseudonym_key = settings.observability.log_pseudonym_secret
    if pseudonym_key is not None and (
        weak := weak_secret_problem("LOG_PSEUDONYM_SECRET", pseudonym_key)
    ):
        r.problems.append(weak)


def _url_password(url: str) -> str:
    try:
        return urlsplit(url).password or ""
    except ValueError:
        return ""
