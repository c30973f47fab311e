"""`make run` as root from a directory only root can enter (a clone in /root, mode 0700).

PostgreSQL runs as an unprivileged user there, which cannot reach the clone: `taskchat dev`
keeps the server's data out of the clone (linked from it), the data survives a restart, and
`make clean` removes it.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.launcher.postgres_home import LINK_NAME, OUTSIDE_ROOT
from tests.e2e.dev_run import ROOT, DevRun
from tests.e2e.processes import free_port

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(900),
    pytest.mark.skipif(
        os.geteuid() != 0,
        reason="needs root: PostgreSQL is moved out of reach only when it must run as another user",
    ),
]


@pytest.fixture
def private_clone() -> Iterator[Path]:
    """A directory like /root/x: mode 0700, owned by root (mkdtemp makes it so)."""
    clone = Path(tempfile.mkdtemp(prefix="taskchat-root-clone-"))
    shutil.copy(ROOT / "Makefile", clone / "Makefile")  # for `make clean`
    try:
        yield clone
    finally:
        outside = (clone / ".taskchat" / LINK_NAME).resolve()
        if outside.is_relative_to(OUTSIDE_ROOT) and outside != OUTSIDE_ROOT:
            shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(clone, ignore_errors=True)


def run_once(clone: Path, port: int, text: str, user: str, expect: str) -> None:
    run = DevRun(clone, gateway_port=port)
    try:
        run.wait_ready()
        run.serve_a_turn(text, user=user, expect=expect)
        run.process.send_signal(signal.SIGINT)
        assert run.wait_exit() == 0, run.terminal.output()
    finally:
        run.kill_everything()


def test_make_run_as_root_from_a_private_directory(private_clone: Path) -> None:
    assert stat.S_IMODE(private_clone.stat().st_mode) == 0o700
    port = free_port()
    user = f"root-clone-{uuid.uuid4().hex[:6]}"
    run_once(private_clone, port, "add task water the plants", user, "water the plants")

    link = private_clone / ".taskchat" / LINK_NAME
    outside = link.resolve()
    assert link.is_symlink() and outside.is_relative_to(OUTSIDE_ROOT), list(
        (private_clone / ".taskchat").iterdir()
    )
    assert (outside / "postgres" / "PG_VERSION").exists()

    # The data survives a restart: the task added before is listed.
    run_once(private_clone, port, "list my tasks", user, "water the plants")

    subprocess.run(["make", "-s", "clean"], cwd=private_clone, check=True, capture_output=True)
    assert not outside.exists()
    assert not (private_clone / ".taskchat").exists()
