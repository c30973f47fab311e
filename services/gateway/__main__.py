"""`python -m services.gateway`: serve the gateway with uvicorn."""

from __future__ import annotations

import logging
import os
import sys
from types import FrameType

import uvicorn

from services.gateway.app import create_app
from services.gateway.draining import DrainState
from shared.settings import Settings, SettingsError


class GatewayServer(uvicorn.Server):
    """uvicorn, telling the app the moment a shutdown signal arrives (see `draining.py`)."""

    def __init__(self, config: uvicorn.Config, draining: DrainState) -> None:
        super().__init__(config)
        self._draining = draining

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._draining.start()
        super().handle_exit(sig, frame)


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    try:
        settings = Settings.from_env(os.environ, needs_model=False)
    except SettingsError as exc:
        sys.exit(f"gateway: {exc}")
    draining = DrainState()
    config = uvicorn.Config(
        create_app(settings, draining),
        host=settings.gateway.host,
        port=settings.gateway.port,
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        # Streams are long-lived; keep-alive matters more than per-request workers here.
        timeout_keep_alive=30,
        # On SIGTERM: stop accepting, let open streams finish for this long, then cut them.
        timeout_graceful_shutdown=max(1, int(settings.gateway.drain_s)),
    )
    GatewayServer(config, draining).run()


if __name__ == "__main__":
    main()
