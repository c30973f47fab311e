"""`python -m services.gateway`: serve the gateway with uvicorn."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from services.gateway.app import create_app
from shared.settings import Settings, SettingsError


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    try:
        settings = Settings.from_env(os.environ, needs_model=False)
    except SettingsError as exc:
        sys.exit(f"gateway: {exc}")
    uvicorn.run(
        create_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        # Streams are long-lived; keep-alive matters more than per-request workers here.
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
