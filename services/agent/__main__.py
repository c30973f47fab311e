"""`python -m services.agent`: run one agent worker process (start more for more capacity)."""

from __future__ import annotations

import logging
import os
import sys

from services.agent.worker import TurnWorker
from shared.settings import Settings, SettingsError


def main() -> None:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    # arq logs each job's arguments at INFO: here that is the user's message. Our own turn log
    # says what is needed (turn id, queue wait) without the content.
    logging.getLogger("arq.worker").setLevel(logging.WARNING)
    try:
        settings = Settings.from_env(os.environ)
    except SettingsError as exc:
        sys.exit(f"worker: {exc}")
    TurnWorker(settings).run()


if __name__ == "__main__":
    main()
