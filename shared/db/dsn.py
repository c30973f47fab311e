"""What a PostgreSQL URL says about the connection beyond host and credentials: TLS and poolers.

asyncpg reads `sslmode` (and the other libpq TLS parameters) from the URL itself and honours them:
`sslmode=require` refuses a server that does not speak TLS. Every query parameter asyncpg does not
know it sends to the server as a setting, which turns one libpq parameter Neon puts in its URLs,
`channel_binding`, into a failed connection; it is handled here.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

PoolerMode = Literal["none", "transaction"]

NEON_POOLER_MARK = "-pooler."
"""Neon names its pooled endpoints `<endpoint>-pooler.<region>...`; the direct one lacks it."""


def pooler_mode(setting: str, url: str) -> PoolerMode:
    """`DATABASE_POOLER` resolved: `auto` recognises Neon's pooled host, nothing else (a
    PgBouncer of one's own cannot be told from Postgres by its address: set `transaction`)."""
    if setting == "none":
        return "none"
    if setting == "transaction":
        return "transaction"
    host = urlsplit(url).hostname or ""
    return "transaction" if NEON_POOLER_MARK in host else "none"


def asyncpg_dsn(url: str) -> str:
    """`url` as asyncpg should get it; ValueError for a requirement asyncpg cannot meet.

    asyncpg implements SCRAM without channel binding: `channel_binding=prefer` or `disable` is
    satisfied without it and dropped; `require` cannot be, and is refused rather than ignored.
    """
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    binding = [value for name, value in query if name == "channel_binding"]
    if not binding:
        return url
    if "require" in binding:
        raise ValueError(
            "channel_binding=require is not supported by the PostgreSQL driver (asyncpg); remove"
            " it from the URL (sslmode=require still encrypts; sslmode=verify-full also checks"
            " the server's certificate)"
        )
    kept = [(name, value) for name, value in query if name != "channel_binding"]
    return urlunsplit(parts._replace(query=urlencode(kept)))
