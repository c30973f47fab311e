"""Typed configuration, read once from the environment at start-up.

Every service builds one `Settings` from a mapping (`Settings.from_env(os.environ)`); tests pass a
plain dict. All problems are collected and reported together, one line per variable. Each setting
is declared once, in the module of its concern (connections, model, gateway, workers,
observability).
"""

from shared.settings.connections import DatabaseSettings, RedisSettings
from shared.settings.gateway import (
    AttachmentSettings,
    AuthSettings,
    GatewaySettings,
    LimitSettings,
    TranscriptionSettings,
    base64_size,
)
from shared.settings.loading import MIN_HS256_SECRET_BYTES, Settings
from shared.settings.mcp import McpServerSettings, parse_mcp_servers
from shared.settings.model import (
    DEFAULT_GEMINI_BASE_URL,
    DEFAULT_GEMINI_MODEL,
    AgentSettings,
    GeminiSettings,
    McpClientSettings,
)
from shared.settings.observability import LOG_FORMATS, LOG_LEVELS, ObservabilitySettings
from shared.settings.reading import SettingsError
from shared.settings.redaction import REDACTED, redact_url
from shared.settings.workers import WorkerSettings

__all__ = [
    "DEFAULT_GEMINI_BASE_URL",
    "DEFAULT_GEMINI_MODEL",
    "LOG_FORMATS",
    "LOG_LEVELS",
    "MIN_HS256_SECRET_BYTES",
    "REDACTED",
    "AgentSettings",
    "AttachmentSettings",
    "AuthSettings",
    "DatabaseSettings",
    "GatewaySettings",
    "GeminiSettings",
    "LimitSettings",
    "McpClientSettings",
    "McpServerSettings",
    "ObservabilitySettings",
    "RedisSettings",
    "Settings",
    "SettingsError",
    "TranscriptionSettings",
    "WorkerSettings",
    "base64_size",
    "parse_mcp_servers",
    "redact_url",
]
