"""`python -m services.gateway`: serve the gateway with uvicorn."""

from __future__ import annotations

import os
import sys

import uvicorn

from services.gateway.app import create_app
from shared.observability.logging_setup import configure_logging
from shared.settings import Settings, SettingsError

SHUTDOWN_GRACE_S = 25
"""On SIGTERM the gateway stops accepting connections and gives open requests and streams this
long to finish before closing them (deploy manifests leave margin above it)."""


def main() -> None:
    try:
        settings = Settings.from_env(os.environ, needs_model=False)
    except SettingsError as exc:
        sys.exit(f"gateway: {exc}")
    configure_logging(settings.observability)
    uvicorn.run(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        # Our logging configuration (JSON or text) also formats uvicorn's lines.
        log_config=None,
        # Streams are long-lived; keep-alive matters more than per-request workers here.
        timeout_keep_alive=30,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )


if __name__ == "__main__":
    main()
