"""`taskchat dev`: start what is missing, then the app processes; stop it all in reverse order.

Everything started is registered on one `ExitStack` right after it starts, so however we leave
(Ctrl-C, SIGTERM, the terminal closing, a crashed child, a start-up error) it is stopped in
reverse order: gateway, workers and emulator together, then Redis, then PostgreSQL. Should we die
without stopping them (`kill -9`), the kernel stops them (see `services.launcher.lifetime`).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeAlias

from services.cli.devenv import ensure_dev_jwt_secret
from services.launcher.embedded_postgres import EmbeddedPostgres
from services.launcher.embedded_redis import EmbeddedRedis
from services.launcher.errors import LaunchError
from services.launcher.net import free_port
from services.launcher.postgres_home import postgres_home
from services.launcher.processes import say, supervise
from services.launcher.system import SystemProcesses, SystemSpec, start_system

SignalHandler: TypeAlias = "Callable[[int, FrameType | None], Any] | int | None"

DATABASE_NAME = "taskchat"
LOCALHOST = "127.0.0.1"
DEFAULT_GATEWAY_PORT = 8000
# Workers give running turns 30 s (WORKER_DRAIN_S, 30 s by default) after SIGTERM.
CHILD_GRACE_S = 40.0


@dataclass(frozen=True, slots=True)
class DevOptions:
    state_dir: Path
    workers: int = 1
    startup_timeout_s: float = 60.0


def run_dev(options: DevOptions, environ: Mapping[str, str]) -> int:
    """Run until Ctrl-C/SIGTERM (exit 0) or until something fails (exit 1)."""
    previous = _stop_signals_raise_interrupt()
    stack = ExitStack()
    try:
        _start_and_supervise(stack, options, dict(environ))
        return 0  # not reached: supervise only returns by raising
    except KeyboardInterrupt:
        say("\nStopping TaskChat…")
        return 0
    except LaunchError as exc:
        _complain(f"taskchat dev: {exc}")
        say("Stopping everything…")
        return 1
    finally:
        # A second Ctrl-C must not cut the ordered shutdown short (that would orphan PostgreSQL).
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        try:
            stack.close()
        except Exception as exc:  # keep stopping the rest; report instead of a traceback
            _complain(f"taskchat dev: error while stopping: {exc}")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _start_and_supervise(stack: ExitStack, options: DevOptions, env: dict[str, str]) -> None:
    state_dir = options.state_dir.resolve()
    # 0755: when we run as root, PostgreSQL's system user must be able to walk into it.
    state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    stack.enter_context(_single_instance(state_dir / "dev.lock"))

    if not env.get("JWT_SECRET"):
        env["JWT_SECRET"] = ensure_dev_jwt_secret(state_dir / "dev.env")
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _start_postgres(stack, state_dir)
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = _start_redis(stack, state_dir / "redis")
    env.setdefault("GATEWAY_PORT", str(DEFAULT_GATEWAY_PORT))

    system = SystemProcesses(env)  # children share our terminal
    stack.callback(system.stop, grace_s=CHILD_GRACE_S)  # whatever has started by then
    if not env.get("GEMINI_API_KEY"):
        say("No GEMINI_API_KEY: starting the Gemini emulator…")
    start_system(
        system, SystemSpec(workers=options.workers, startup_timeout_s=options.startup_timeout_s)
    )
    _print_ready(system.gateway_url, state_dir, options.workers)
    supervise(system.children, check=_terminal_watch())


def _start_postgres(stack: ExitStack, state_dir: Path) -> str:
    home = postgres_home(state_dir)
    server = EmbeddedPostgres(
        home.data_dir, free_port(LOCALHOST), host=LOCALHOST, bin_dir=home.bin_dir
    )
    say(f"Starting embedded PostgreSQL on port {server.port} (data in {server.data_dir})…")
    stack.callback(server.stop)  # registered first: a half-started server is still stopped
    server.start()
    server.ensure_database(DATABASE_NAME)
    return server.url(DATABASE_NAME)


def _start_redis(stack: ExitStack, data_dir: Path) -> str:
    server = EmbeddedRedis(data_dir, free_port(LOCALHOST), host=LOCALHOST)
    say(f"Starting embedded Redis on port {server.port}…")
    stack.callback(server.stop)
    server.start()
    return server.url()


def _print_ready(url: str, state_dir: Path, workers: int) -> None:
    default_state = state_dir == Path(".taskchat").resolve()
    url_flag = "" if url == "http://127.0.0.1:8000" else f" --url {url}"
    # `token`/`chat` find the dev secret in ./.taskchat/dev.env; elsewhere they need JWT_SECRET.
    secret_hint = "" if default_state else f"  (export JWT_SECRET from {state_dir / 'dev.env'})"
    say(
        f"\nTaskChat is running at {url}  (ChatKit endpoint: {url}/chatkit, "
        f"{workers} worker{'s' if workers != 1 else ''})\n"
        f"  Get a token:  taskchat token --user alice{secret_hint}\n"
        f"  Chat:         taskchat chat --user alice{url_flag}\n"
        f"  Browser:      {url}/  (loads ChatKit from its CDN; paste the token)\n"
        f"  Operations:   {url}/metrics, {url}/readyz\n"
        "Press Ctrl-C to stop.\n"
    )


@contextmanager
def _single_instance(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock for the whole run: a second `taskchat dev` on the same state dir
    would otherwise stop this one's PostgreSQL, taking it for a leftover."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LaunchError(
                f"another `taskchat dev` is already running with state in {lock_path.parent}"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _terminal_watch() -> Callable[[], None]:
    """Raises `KeyboardInterrupt` once our terminal has been closed, signal or not.

    Closing a terminal signals (SIGHUP) only its session's leader. Under a shell, the shell
    passes it on to its jobs; but where `make run` itself leads the session (`tmux new 'make
    run'`, `xterm -e make run`), make waits for us without passing it on, and nothing would
    stop. A hung-up terminal no longer answers terminal requests, so `isatty` turns false.
    """
    terminals = [fd for fd in (0, 1, 2) if os.isatty(fd)]

    def check() -> None:
        if any(not os.isatty(fd) for fd in terminals):
            raise KeyboardInterrupt

    return check


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
"""Ctrl-C, `kill`, and the terminal closing: each stops the system the same ordered way."""


def _stop_signals_raise_interrupt() -> dict[signal.Signals, SignalHandler]:
    """Make every stop signal raise `KeyboardInterrupt`; return the previous handlers.

    SIGINT is installed too rather than trusting Python's default: a process started where
    SIGINT is ignored (a background job of a script, `nohup`) inherits the ignoring, and Python
    then leaves it ignored, so Ctrl-C would do nothing.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    return {signum: signal.signal(signum, interrupt) for signum in STOP_SIGNALS}


def _complain(text: str) -> None:
    with contextlib.suppress(OSError):  # the terminal has gone (SIGHUP): carry on stopping
        print(text, file=sys.stderr, flush=True)
