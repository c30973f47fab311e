"""Child processes of `taskchat dev`: start with a composed environment, watch, stop politely."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

from services.cli.dev.errors import DevError


class ChildProcess:
    def __init__(self, name: str, popen: subprocess.Popen[bytes]) -> None:
        self.name = name
        self.popen = popen

    @classmethod
    def start(cls, name: str, argv: Sequence[str], env: Mapping[str, str]) -> ChildProcess:
        # Own process group: Ctrl-C in the terminal reaches only `taskchat dev`, which then stops
        # the children in order (workers and gateway before the stores they depend on).
        popen = subprocess.Popen(list(argv), env=dict(env), process_group=0)
        return cls(name, popen)

    @classmethod
    def python_module(
        cls, name: str, module: str, env: Mapping[str, str], *args: str
    ) -> ChildProcess:
        return cls.start(name, [sys.executable, "-m", module, *args], env)

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def raise_if_exited(self) -> None:
        code = self.exit_code()
        if code is None:
            return
        if code < 0:  # Popen reports death by signal N as -N
            raise DevError(f"{self.name} was killed by {signal.Signals(-code).name}")
        raise DevError(f"{self.name} exited with code {code}")


def stop_all(children: Sequence[ChildProcess], *, grace_s: float) -> None:
    """SIGTERM all at once (they shut down in parallel), then SIGKILL whoever outlives `grace_s`."""
    running = [child for child in children if child.exit_code() is None]
    for child in running:
        child.popen.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in running:
        try:
            child.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"{child.name} did not stop within {grace_s:.0f}s; killing it", flush=True)
            child.popen.kill()
            child.popen.wait()


def supervise(children: Sequence[ChildProcess], *, poll_s: float = 0.5) -> None:
    """Block until one child exits, then raise `DevError` naming it (Ctrl-C interrupts this)."""
    while True:
        for child in children:
            child.raise_if_exited()
        time.sleep(poll_s)
