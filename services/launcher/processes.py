"""Child processes of the launcher: start with a composed environment, watch, stop politely."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from services.launcher.errors import LaunchError
from services.launcher.lifetime import die_with_parent


class ChildProcess:
    def __init__(
        self, name: str, popen: subprocess.Popen[bytes], log_path: Path | None = None
    ) -> None:
        self.name = name
        self.popen = popen
        self.log_path = log_path
        """Where its output goes; None: our own stdout and stderr (the terminal)."""

    @classmethod
    def start(
        cls,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        *,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> ChildProcess:
        # Own process group: Ctrl-C in the terminal reaches only the runner, which then stops
        # the children in order (workers and gateway before the stores they depend on). And it
        # dies with the runner, however the runner dies.
        if log_path is None:
            popen = subprocess.Popen(
                list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
                process_group=0, preexec_fn=die_with_parent(),
            )  # fmt: skip
            return cls(name, popen)
        with log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(
                list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, process_group=0,
                preexec_fn=die_with_parent(),
            )  # fmt: skip
        return cls(name, popen, log_path)

    @classmethod
    def python_module(
        cls,
        name: str,
        module: str,
        env: Mapping[str, str],
        *args: str,
        log_path: Path | None = None,
        cwd: Path | None = None,
    ) -> ChildProcess:
        return cls.start(
            name, [sys.executable, "-m", module, *args], env, log_path=log_path, cwd=cwd
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The `Popen` (the name the end-to-end tests use)."""
        return self.popen

    def log(self) -> str:
        """Its output so far ("" when it writes to the terminal)."""
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def raise_if_exited(self) -> None:
        code = self.exit_code()
        if code is None:
            return
        if code < 0:  # Popen reports death by signal N as -N
            problem = f"{self.name} was killed by {signal.Signals(-code).name}"
        else:
            problem = f"{self.name} exited with code {code}"
        if self.log_path is not None:
            problem += f"; its log ({self.log_path}):\n{_tail(self.log())}"
        raise LaunchError(problem)

    def stop(self, timeout_s: float = 15) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`."""
        stop_all([self], grace_s=timeout_s)

    def kill(self) -> None:
        """SIGKILL (what the OOM killer does), and reap it."""
        self.popen.kill()
        self.popen.wait()


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])


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
            say(f"{child.name} did not stop within {grace_s:.0f}s; killing it")
            child.popen.kill()
            child.popen.wait()


def supervise(
    children: Sequence[ChildProcess],
    *,
    poll_s: float = 0.5,
    check: Callable[[], None] = lambda: None,
) -> None:
    """Block until one child exits, then raise `LaunchError` naming it (Ctrl-C interrupts this).
    `check` runs on every poll too, and may raise to end the watch."""
    while True:
        for child in children:
            child.raise_if_exited()
        check()
        time.sleep(poll_s)


def say(text: str) -> None:
    """Print a progress line; a terminal that has gone away (SIGHUP) must not stop a shutdown."""
    with contextlib.suppress(OSError):
        print(text, flush=True)
