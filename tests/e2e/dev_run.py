"""`taskchat dev` (what `make run` runs) as a real process in a terminal of its own.

The runner gets a pseudo-terminal as its controlling terminal, like a shell's foreground job,
so closing the terminal (`hang_up`) is what closing a window does: the kernel sends SIGHUP and
later writes to the terminal fail.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import termios
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from services.chatkit_client.client import ChatKitClient
from services.cli.devenv import read_env_file
from services.gateway.auth.tokens import issue_token
from services.launcher.lifetime import is_running

ROOT = Path(__file__).resolve().parents[2]
TASKCHAT = str(Path(sys.executable).with_name("taskchat"))
READY = re.compile(r"TaskChat is running at (http://\S+)")
# Variables that would make `taskchat dev` use outside services instead of starting its own.
OUTSIDE_SERVICES = ("DATABASE_URL", "REDIS_URL", "GEMINI_API_KEY", "GEMINI_BASE_URL", "JWT_SECRET")


class Terminal:
    """The master side of a pseudo-terminal, read into a buffer by a thread of its own."""

    def __init__(self) -> None:
        self.master, self.slave = pty.openpty()
        self._output = bytearray()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def output(self) -> str:
        with self._lock:
            return self._output.decode(errors="replace")

    def close(self) -> None:
        """Hang up: the reader closes the master, so the session's leader gets SIGHUP."""
        self._closing.set()
        self._reader.join(timeout=5)

    def _read(self) -> None:
        try:
            while not self._closing.is_set():
                ready, _, _ = select.select([self.master], [], [], 0.1)
                if not ready:
                    continue
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: every slave descriptor is closed
                    return
                with self._lock:
                    self._output += chunk
        finally:
            os.close(self.master)


def _take_terminal() -> None:
    """In the child, after `setsid`: make the pseudo-terminal on stdin our controlling one."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def _take_terminal_ignoring_sigint() -> None:
    """Also start with SIGINT ignored, as a background job of a script inherits it."""
    _take_terminal()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class DevRun:
    """One `taskchat dev` in `cwd` with its state in `state_dir`, gateway on `gateway_port`."""

    def __init__(
        self,
        cwd: Path,
        *,
        gateway_port: int,
        state_dir: Path | None = None,
        sigint_ignored: bool = False,
        via_make: bool = False,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.cwd = cwd
        self.state_dir = state_dir if state_dir is not None else cwd / ".taskchat"
        self.terminal = Terminal()
        env = {k: v for k, v in environ.items() if k not in OUTSIDE_SERVICES}
        env["GATEWAY_PORT"] = str(gateway_port)
        argv = [TASKCHAT, "dev"]
        if state_dir is not None:
            argv += ["--state-dir", str(state_dir)]
        if via_make:  # `make run`, make leading the terminal's session as `xterm -e` would
            _make_run_ready(cwd)
            argv = ["make", "-s", "run"]
        preexec: Callable[[], None] = (
            _take_terminal_ignoring_sigint if sigint_ignored else _take_terminal
        )
        slave = self.terminal.slave
        self.process = subprocess.Popen(
            argv, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
            start_new_session=True, preexec_fn=preexec,
        )  # fmt: skip
        os.close(slave)  # the runner holds the only copies now
        self.url = ""

    def wait_ready(self, timeout_s: float = 240) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = READY.search(self.terminal.output())
            if match:
                self.url = match.group(1)
                return self.url
            if self.process.poll() is not None:
                raise AssertionError(f"taskchat dev exited early:\n{self.terminal.output()}")
            time.sleep(0.2)
        raise AssertionError(f"taskchat dev not ready in {timeout_s}s:\n{self.terminal.output()}")

    def system_pids(self) -> set[int]:
        """Every process below the runner: the servers, the app, PostgreSQL's backends."""
        return descendants(self.process.pid)

    def serve_a_turn(
        self,
        text: str = "add task water the plants",
        *,
        user: str | None = None,
        expect: str = "water the plants",
    ) -> None:
        """One turn in a new thread, whose answer must mention `expect`."""
        secret = read_env_file(self.state_dir / "dev.env")["JWT_SECRET"]
        user = user if user is not None else f"dev-{uuid.uuid4().hex[:8]}"
        client = ChatKitClient(self.url, issue_token(secret, user))
        try:
            turn = client.create_thread(text)
        finally:
            client.close()
        assert turn.status_code == 200, turn.status_code
        kinds = [e["type"] for e in turn.raw_events]
        assert "error" not in kinds, turn.raw_events
        assert expect in turn.assistant_text(), turn.raw_events

    def wait_exit(self, timeout_s: float = 120) -> int:
        try:
            return self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"taskchat dev still running after {timeout_s}s:\n{self.terminal.output()}"
            ) from None

    def kill_everything(self) -> None:
        """Clean-up after a failed test: the runner and whatever it left."""
        pids = self.system_pids() if self.process.poll() is None else set()
        for pid in [self.process.pid, *pids]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait()
        self.terminal.close()


def _make_run_ready(clone: Path) -> None:
    """What `make run` needs in `clone`: the Makefile, and this checkout's installed .venv
    (pyproject.toml keeps its time, so make sees the install as up to date)."""
    shutil.copy2(ROOT / "Makefile", clone / "Makefile")
    shutil.copy2(ROOT / "pyproject.toml", clone / "pyproject.toml")
    venv = clone / ".venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.executable).parents[1], target_is_directory=True)


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rpartition(")")[2].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def still_running(pids: set[int], *, within_s: float) -> set[int]:
    """Those of `pids` still running after up to `within_s` (polling; zombies count as gone)."""
    deadline = time.monotonic() + within_s
    while True:
        alive = {pid for pid in pids if is_running(pid)}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def describe(pids: set[int]) -> str:
    lines = []
    for pid in sorted(pids):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            cmdline = "?"
        lines.append(f"{pid}: {cmdline}")
    return "\n".join(lines)
