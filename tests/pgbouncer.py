"""A PgBouncer of the test's own, in transaction mode, in front of the test PostgreSQL server.

Neon's pooled endpoint and most managed poolers are PgBouncer in transaction mode: each transaction
gets whichever server connection is free. The pool here is kept small so that clients share server
connections and anything session-bound (prepared statements, session locks, session settings) goes
wrong the way it would in production. It speaks TLS to clients (a throw-away self-signed
certificate), as Neon does, so `sslmode=require` URLs are exercised too.

Debian's `pgbouncer` package provides the binary (`.ci/run` installs it); no system-wide pgbouncer
service is touched. PgBouncer refuses to run as root, so as root it runs as the `postgres` user.
"""

from __future__ import annotations

import csv
import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.launcher.net import free_port
from tests.scratch_database import ADMIN_DATABASE_URL

PGBOUNCER = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
ADMIN_USER = "postgres"
"""May use the admin console (`SHOW POOLS`); always in the user list."""
RUN_AS = "postgres"
"""PgBouncer will not run as root; as root the tests start it as this user."""


@dataclass(frozen=True)
class PgBouncer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str, user: str, query: str = "sslmode=require") -> str:
        """A URL through this PgBouncer, TLS required unless `query` says otherwise."""
        suffix = f"?{query}" if query else ""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}{suffix}"

    def pools(self) -> dict[tuple[str, str], dict[str, str]]:
        """`SHOW POOLS` of the admin console, by (database, user). (The console speaks only the
        simple query protocol, which asyncpg does not use for queries; psql does.)"""
        shown = subprocess.run(
            [
                *("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", ADMIN_USER),
                *("pgbouncer", "--csv", "-c", "SHOW POOLS"),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        rows = list(csv.DictReader(io.StringIO(shown)))
        return {(row["database"], row["user"]): row for row in rows}

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def _config(directory: Path, port: int, pool_size: int, tls: bool) -> str:
    target = urlsplit(ADMIN_DATABASE_URL)
    lines = [
        "[databases]",
        f"* = host={target.hostname or '127.0.0.1'} port={target.port or 5432}",
        "[pgbouncer]",
        "listen_addr = 127.0.0.1",
        f"listen_port = {port}",
        "unix_socket_dir =",
        "auth_type = trust",
        f"auth_file = {directory / 'userlist.txt'}",
        "pool_mode = transaction",
        # Per (database, user): few server connections shared by many clients.
        f"default_pool_size = {pool_size}",
        "max_client_conn = 500",
        f"logfile = {directory / 'pgbouncer.log'}",
        f"pidfile = {directory / 'pgbouncer.pid'}",
        f"admin_users = {ADMIN_USER}",
    ]
    if tls:
        lines += [
            "client_tls_sslmode = allow",
            f"client_tls_key_file = {directory / 'key.pem'}",
            f"client_tls_cert_file = {directory / 'cert.pem'}",
        ]
    return "\n".join(lines) + "\n"


def _self_signed_certificate(directory: Path) -> None:
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(directory / "key.pem"), "-out", str(directory / "cert.pem")),
            *("-subj", "/CN=127.0.0.1"),
        ],
        check=True,
        capture_output=True,
    )


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            text = log.read_text(errors="replace") if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited ({process.returncode}):\n{text}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"pgbouncer not listening on {port} after 30 s")


@contextmanager
def running_pgbouncer(
    users: Sequence[str], *, pool_size: int = 3, tls: bool = True
) -> Iterator[PgBouncer]:
    """Start PgBouncer (transaction mode) for `users` on a free port; stop it at the end."""
    if not os.access(PGBOUNCER, os.X_OK):
        raise RuntimeError("pgbouncer is not installed: apt-get install -y pgbouncer")
    directory = Path(tempfile.mkdtemp(prefix="taskchat-pgbouncer-"))
    try:
        port = free_port("127.0.0.1")
        listed = dict.fromkeys([ADMIN_USER, *users])
        (directory / "userlist.txt").write_text("".join(f'"{user}" ""\n' for user in listed))
        if tls:
            _self_signed_certificate(directory)
        (directory / "pgbouncer.ini").write_text(_config(directory, port, pool_size, tls))
        command = [PGBOUNCER, str(directory / "pgbouncer.ini")]
        if os.geteuid() == 0:
            account = pwd.getpwnam(RUN_AS)
            for path in [directory, *directory.iterdir()]:
                os.chown(path, account.pw_uid, account.pw_gid)
            command[1:1] = ["-u", RUN_AS]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_listening(port, process, directory / "pgbouncer.log")
            yield PgBouncer(port, directory, process)
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
