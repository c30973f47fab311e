"""`taskchat dev`: start what is missing, then the app processes; stop it all in reverse order.

Everything started is registered on one `ExitStack` right after it starts, so however we leave
(Ctrl-C, SIGTERM, a crashed child, a start-up error) it is stopped in reverse order: gateway and
workers, then the emulator, then Redis, then PostgreSQL.
"""

from __future__ import annotations

import asyncio
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

from services.cli.dev.embedded_postgres import EmbeddedPostgres
from services.cli.dev.embedded_redis import EmbeddedRedis
from services.cli.dev.errors import DevError
from services.cli.dev.net import free_port, port_is_free, wait_until_healthy
from services.cli.dev.processes import ChildProcess, stop_all, supervise
from services.cli.devenv import ensure_dev_jwt_secret

SignalHandler: TypeAlias = "Callable[[int, FrameType | None], Any] | int | None"

DATABASE_NAME = "taskchat"
LOCALHOST = "127.0.0.1"
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
        _say("\nStopping TaskChat…")
        return 0
    except DevError as exc:
        print(f"taskchat dev: {exc}", file=sys.stderr, flush=True)
        _say("Stopping everything…")
        return 1
    finally:
        # A second Ctrl-C must not cut the ordered shutdown short (that would orphan PostgreSQL).
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        try:
            stack.close()
        except Exception as exc:  # keep stopping the rest; report instead of a traceback
            print(f"taskchat dev: error while stopping: {exc}", file=sys.stderr, flush=True)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def _start_and_supervise(stack: ExitStack, options: DevOptions, env: dict[str, str]) -> None:
    state_dir = options.state_dir.resolve()
    # 0755: when we run as root, PostgreSQL's system user must be able to walk into it.
    state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    stack.enter_context(_single_instance(state_dir / "dev.lock"))
    env["PYTHONUNBUFFERED"] = "1"  # children share our terminal; show their logs as they happen

    if not env.get("JWT_SECRET"):
        env["JWT_SECRET"] = ensure_dev_jwt_secret(state_dir / "dev.env")
    if not env.get("DATABASE_URL"):
        env["DATABASE_URL"] = _start_postgres(stack, state_dir / "postgres")
    if not env.get("REDIS_URL"):
        env["REDIS_URL"] = _start_redis(stack, state_dir / "redis")

    children: list[ChildProcess] = []
    stack.callback(stop_all, children, grace_s=CHILD_GRACE_S)  # whatever has started by then
    if not env.get("GEMINI_API_KEY"):
        _start_emulator(children, env, options.startup_timeout_s)

    _migrate(env)
    gateway_url = _start_app(children, env, options)
    _print_ready(gateway_url, state_dir, options.workers)
    supervise(children)


def _start_postgres(stack: ExitStack, data_dir: Path) -> str:
    server = EmbeddedPostgres(data_dir, free_port(LOCALHOST), host=LOCALHOST)
    _say(f"Starting embedded PostgreSQL on port {server.port} (data in {data_dir})…")
    stack.callback(server.stop)  # registered first: a half-started server is still stopped
    server.start()
    server.ensure_database(DATABASE_NAME)
    return server.url(DATABASE_NAME)


def _start_redis(stack: ExitStack, data_dir: Path) -> str:
    server = EmbeddedRedis(data_dir, free_port(LOCALHOST), host=LOCALHOST)
    _say(f"Starting embedded Redis on port {server.port}…")
    stack.callback(server.stop)
    server.start()
    return server.url()


def _start_emulator(children: list[ChildProcess], env: dict[str, str], timeout_s: float) -> None:
    port = free_port(LOCALHOST)
    child = ChildProcess.python_module(
        "emulator", "services.gemini_emulator", env, "--host", LOCALHOST, "--port", str(port)
    )
    children.append(child)
    base = f"http://{LOCALHOST}:{port}"
    wait_until_healthy(
        f"{base}/healthz", what="the Gemini emulator", timeout_s=timeout_s,
        check_alive=child.raise_if_exited,
    )  # fmt: skip
    env["GEMINI_API_KEY"] = "emulator"
    env["GEMINI_BASE_URL"] = f"{base}/v1beta/openai/"
    _say(f"No GEMINI_API_KEY: using the Gemini emulator at {env['GEMINI_BASE_URL']}")


def _migrate(env: Mapping[str, str]) -> None:
    from services.cli.commands.migrate import apply_pending

    try:
        applied = asyncio.run(apply_pending(env))
    except Exception as exc:  # settings, connection or SQL problem: all fatal, all reportable
        raise DevError(f"migrations failed: {type(exc).__name__}: {exc}") from exc
    _say(
        f"Applied migrations: {', '.join(applied)}" if applied else "Database schema is up to date."
    )


def _start_app(children: list[ChildProcess], env: dict[str, str], options: DevOptions) -> str:
    host = env.setdefault("GATEWAY_HOST", LOCALHOST)
    port = int(env.setdefault("GATEWAY_PORT", "8000"))
    if not port_is_free(host, port):
        raise DevError(f"port {port} on {host} is in use; set GATEWAY_PORT to another port")
    gateway = ChildProcess.python_module("gateway", "services.gateway", env)
    children.append(gateway)
    for number in range(1, options.workers + 1):
        children.append(ChildProcess.python_module(f"worker-{number}", "services.agent", env))

    def all_alive() -> None:
        for child in children:
            child.raise_if_exited()

    url_host = LOCALHOST if host in ("0.0.0.0", "::") else host
    url = f"http://{url_host}:{port}"
    wait_until_healthy(
        f"{url}/healthz", what="the gateway", timeout_s=options.startup_timeout_s,
        check_alive=all_alive,
    )  # fmt: skip
    return url


def _print_ready(url: str, state_dir: Path, workers: int) -> None:
    default_state = state_dir == Path(".taskchat").resolve()
    url_flag = "" if url == "http://127.0.0.1:8000" else f" --url {url}"
    # `token`/`chat` find the dev secret in ./.taskchat/dev.env; elsewhere they need JWT_SECRET.
    secret_hint = "" if default_state else f"  (export JWT_SECRET from {state_dir / 'dev.env'})"
    _say(
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
            raise DevError(
                f"another `taskchat dev` is already running with state in {lock_path.parent}"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the lock


def _stop_signals_raise_interrupt() -> dict[signal.Signals, SignalHandler]:
    """Make SIGTERM/SIGHUP behave like Ctrl-C; return the previous handlers."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous: dict[signal.Signals, SignalHandler] = {signal.SIGINT: signal.getsignal(signal.SIGINT)}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        previous[signum] = signal.signal(signum, interrupt)
    return previous


def _say(text: str) -> None:
    print(text, flush=True)
