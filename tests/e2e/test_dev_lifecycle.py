"""`make run` (`taskchat dev`) stops whole, however it is stopped, and starts again after.

Closing its terminal (also when `make run` leads the terminal's session), Ctrl-C (also when SIGINT
was ignored by inheritance), `kill` and `kill -9` of the runner each leave no process of the
system running, and the next start in the same directory starts and serves a turn.
"""

from __future__ import annotations

import os
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.dev_run import DevRun, describe, still_running
from tests.e2e.processes import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

GONE_WITHIN_S = 30.0
"""A bound, not a speed claim: on an idle machine everything is gone in about a second."""


@pytest.fixture
def clone() -> Iterator[Path]:
    # Not pytest's tmp_path (0700 under /tmp/pytest-of-root): that is the other test's subject.
    with tempfile.TemporaryDirectory(prefix="taskchat-dev-lifecycle-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def stop_by(run: DevRun, how: str) -> None:
    if how.startswith("terminal closed"):
        run.terminal.close()
    elif how in ("SIGINT", "SIGINT ignored by inheritance"):
        run.process.send_signal(signal.SIGINT)
    else:
        run.process.send_signal(signal.Signals[how])


WAYS = (
    "terminal closed",
    "terminal closed under make",
    "SIGINT",
    "SIGINT ignored by inheritance",
    "SIGTERM",
    "SIGKILL",
)
EXIT_CODES = {"SIGKILL": -signal.SIGKILL, "terminal closed under make": -signal.SIGHUP}
"""How the process we started ends (0 for the others); make re-raises the SIGHUP it got."""


def test_stopping_the_runner_leaves_nothing_and_it_starts_again(clone: Path) -> None:
    """Each way in turn, in one directory: every start after a stop is the "next `make run`"
    of the way before (six starts in all rather than two per way: they are the slow part)."""
    port = free_port()  # the same gateway port each time: a restart must not find it taken
    for how in WAYS:
        run = DevRun(
            clone,
            gateway_port=port,
            sigint_ignored=how == "SIGINT ignored by inheritance",
            via_make=how == "terminal closed under make",
        )
        try:
            run.wait_ready()
            run.serve_a_turn()
            system = run.system_pids()
            assert len(system) >= 5, describe(system)  # postgres (and backends), redis, emulator…

            stop_by(run, how)
            assert run.wait_exit() == EXIT_CODES.get(how, 0), (how, run.terminal.output())
            left = still_running(system, within_s=GONE_WITHIN_S)
            assert not left, f"still running after the runner stopped ({how}):\n{describe(left)}"
        finally:
            run.kill_everything()

    last = DevRun(clone, gateway_port=port)
    try:
        last.wait_ready()
        last.serve_a_turn()
        last.process.send_signal(signal.SIGTERM)
        assert last.wait_exit() == 0, last.terminal.output()
    finally:
        last.kill_everything()
