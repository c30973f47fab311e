"""How `make test` spreads the suite over pytest-xdist workers (`-n 2 --dist loadfile`).

Each worker is a test session of its own (its own database, Redis server and shared system,
tests/conftest.py). A test module runs whole on one worker, so the system a module starts once
(module scope) is still started once; the browser modules go together, as they share one
Chromium and one system (package scope, tests/browser/conftest.py). Modules are handed out in
collection order, as workers become free (xdist's default order, by number of tests, would
leave the longest single test, the `taskchat dev` lifecycle, to the end).
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadFileScheduling

BROWSER = "tests/browser/"


class ModuleScheduling(LoadFileScheduling):  # type: ignore[misc]  # xdist is untyped
    def __init__(self, config: pytest.Config, log: object) -> None:
        config.option.loadscopereorder = False
        super().__init__(config, log)

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return BROWSER if module.startswith(BROWSER) else module
