"""Whether this gateway process is shutting down.

uvicorn drains open connections before the app's lifespan ends, so the lifespan hears of the
shutdown too late; the server sets this flag when the signal arrives (see `__main__.py`). While it
is set, new turns are refused and streams cut by the shutdown leave their turns running: their
clients can re-join through another gateway with `Last-Event-ID`.
"""

from __future__ import annotations


class DrainState:
    def __init__(self) -> None:
        self._draining = False

    def start(self) -> None:
        self._draining = True

    def __call__(self) -> bool:
        return self._draining
