"""The dev env file (`./.taskchat/dev.env`) that `taskchat dev` writes and other commands read.

`taskchat dev` generates a JWT secret on first run and keeps it here, so `taskchat token` and
`taskchat chat` in another terminal sign tokens the running gateway accepts, and tokens keep
working across restarts.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

STATE_DIR = Path(".taskchat")
DEV_ENV_FILE = STATE_DIR / "dev.env"


def read_env_file(path: Path) -> dict[str, str]:
    """Parse `KEY=value` lines; blank lines and `#` comments are ignored. Missing file: `{}`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip()
    return values


def write_env_file(path: Path, values: Mapping[str, str]) -> None:
    """Write `values` as `KEY=value` lines, readable by the owner only (it holds a secret)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "# Written by `taskchat dev`; read by `taskchat token` and `taskchat chat`.\n"
    body += "".join(f"{key}={value}\n" for key, value in sorted(values.items()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(body)


def ensure_dev_jwt_secret(path: Path = DEV_ENV_FILE) -> str:
    """Return the secret stored in `path`, generating and persisting one on first use."""
    stored = read_env_file(path)
    secret = stored.get("JWT_SECRET")
    if secret:
        return secret
    secret = secrets.token_urlsafe(48)
    write_env_file(path, {**stored, "JWT_SECRET": secret})
    return secret


class NoJwtSecretError(Exception):
    """Neither `JWT_SECRET` nor the dev env file provides a secret."""


def find_jwt_secret(environ: Mapping[str, str], path: Path = DEV_ENV_FILE) -> str:
    """`JWT_SECRET` from the environment, else from the dev env file written by `taskchat dev`."""
    secret = (environ.get("JWT_SECRET") or "").strip()
    if secret:
        return secret
    secret = read_env_file(path).get("JWT_SECRET", "")
    if secret:
        return secret
    raise NoJwtSecretError(
        f"JWT_SECRET is not set and {path} has none: export JWT_SECRET, "
        "or run `taskchat dev` (in this directory) once to generate a dev secret."
    )
