"""Settings print without their secrets: they end up in logs and tracebacks."""

from __future__ import annotations

from dataclasses import fields
from urllib.parse import urlsplit, urlunsplit

REDACTED = "***"


def redact_url(url: str) -> str:
    """`url` without the password of its user-info part (DSNs often carry one)."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # unparseable (e.g. a bad port): show nothing of it
        return REDACTED
    if password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:{REDACTED}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


class Redacted:
    """`repr`/`str` that never show secrets: settings end up in logs and tracebacks."""

    __slots__ = ()

    def __repr__(self) -> str:
        shown = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.metadata.get("secret") and value:
                text = repr(REDACTED)
            elif f.metadata.get("url") and isinstance(value, str):
                text = repr(redact_url(value))
            elif f.metadata.get("headers"):
                # Header values are often credentials (Authorization, API keys): names only.
                text = repr(tuple((name, REDACTED) for name, _ in value))
            else:
                text = repr(value)
            shown.append(f"{f.name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"

    __str__ = __repr__
