"""`python -m services.agent`: run one agent worker process (start more for more capacity)."""

from __future__ import annotations

import asyncio
import os
import sys

import uvloop

from services.agent.worker import TurnWorker
from shared.observability.logging_setup import configure_logging
from shared.settings import Settings, SettingsError


def main() -> None:
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"worker: {exc}")
    # Also quiets arq's per-job lines, which would log the user's message.
    configure_logging(settings.observability)
    # uvloop: asyncio's API on libuv. A worker's time goes to many small awaits per streamed
    # event, which uvloop makes cheaper. arq runs the loop it finds set.
    asyncio.set_event_loop(uvloop.new_event_loop())
    TurnWorker(settings).run()


if __name__ == "__main__":
    main()
