"""A child started with `die_with_parent` does not outlive its parent, even after `kill -9`."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from services.launcher.lifetime import is_running

PARENT = """
import subprocess, sys, time
from services.launcher.lifetime import die_with_parent
child = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(600)"],
    process_group=0, preexec_fn=die_with_parent(),
)
print(child.pid, flush=True)
time.sleep(600)
"""


def test_a_child_dies_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        assert is_running(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 30
        while is_running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_running(child)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()
