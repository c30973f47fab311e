"""Logs, traces and the worker's health port.

Each setting is declared once, here; `docs/configuration.md` and `.env.example` follow from it
(`python -m shared.settings`).
"""

from __future__ import annotations

from shared.settings.declaration import setting, settings_group
from shared.settings.parsers import Choice, Integer, Text, Url
from shared.settings.redaction import Redacted

LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@settings_group
class ObservabilitySettings(Redacted):
    """Logs, traces and the worker's health port."""

    log_level: str = setting(
        "LOG_LEVEL",
        Choice(*LOG_LEVELS, upper=True),
        default="INFO",
        doc="`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL` (case-insensitive)",
    )
    log_format: str = setting(
        "LOG_FORMAT",
        Choice(*LOG_FORMATS),
        default="text",
        doc="`json`: one object per line with turn id, thread id and hashed user (the container "
        "image's default); `text`: for a terminal",
    )
    otlp_endpoint: str | None = setting(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        Url("http", "https"),
        default=None,
        doc="OTLP/HTTP collector base URL (e.g. http://otel:4318) for traces; unset = no "
        "tracing (needs the `otel` extra, in the image)",
        url=True,
    )
    service_name: str | None = setting(
        "OTEL_SERVICE_NAME",
        Text(),
        default=None,
        doc="service name on exported spans",
        shown_default="taskchat-gateway / taskchat-worker",
    )
    worker_health_port: int = setting(
        "WORKER_HEALTH_PORT",
        Integer(minimum=0, maximum=65535),
        default=0,
        doc="a worker serves `/healthz` and `/metrics` on this port; 0 = off, so several "
        "workers can share a laptop (the image sets 8001)",
        read_by="worker",
    )
    worker_health_host: str = setting(
        "WORKER_HEALTH_HOST",
        Text(),
        default="127.0.0.1",
        doc="interface of the worker's health and metrics port",
        read_by="worker",
    )
    log_pseudonym_secret: str | None = setting(
        "LOG_PSEUDONYM_SECRET",
        Text(),
        default=None,
        doc="key of the HMAC that turns user ids into log pseudonyms; set the same value on "
        "every process to group one user's lines across them (unset: a random key per process, "
        "so pseudonyms differ between processes and restarts)",
        shown_default="a random key per process",
        secret=True,
    )
