"""The one error type the launcher raises (`taskchat dev` shows it as a message, no traceback)."""

from __future__ import annotations

from pathlib import Path


class LaunchError(RuntimeError):
    """Something prevented the system from starting or keeping running."""


def log_tail(path: Path, lines: int = 20) -> str:
    """The end of a service's log file, to show next to a start-up failure."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
