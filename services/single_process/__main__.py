"""`python -m services.single_process`: the single-process baseline (see the package docstring)."""

from __future__ import annotations

import logging
import os
import sys

import uvicorn

from services.single_process.app import create_single_process_app
from shared.settings import Settings, SettingsError


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"single-process: {exc}")
    uvicorn.run(
        create_single_process_app(settings),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        timeout_keep_alive=30,
    )


if __name__ == "__main__":
    main()
