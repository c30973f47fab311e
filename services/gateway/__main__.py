"""`python -m services.gateway`: serve the gateway with uvicorn."""

from __future__ import annotations

import os
import sys
from types import FrameType

import uvicorn

from services.gateway.app import create_app
from services.gateway.draining import DrainState
from shared.observability.logging_setup import configure_logging
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
    try:
        settings = Settings.from_env(os.environ, needs_model=False)
    except SettingsError as exc:
        sys.exit(f"gateway: {exc}")
    configure_logging(settings.observability)
    draining = DrainState()
    config = uvicorn.Config(
        create_app(settings, draining),
        host=settings.gateway.host,
        port=settings.gateway.port,
        # Our logging configuration (JSON or text) also formats uvicorn's lines.
        log_config=None,
        # Streams are long-lived; keep-alive matters more than per-request workers here.
        timeout_keep_alive=30,
        # On SIGTERM: stop accepting, let open streams finish for this long, then cut them.
        timeout_graceful_shutdown=max(1, int(settings.gateway.drain_s)),
    )
    GatewayServer(config, draining).run()


if __name__ == "__main__":
    main()
