"""Cross-site request checks for cookie-authenticated requests.

Browsers attach cookies to requests any site makes, so a request that authenticates with the
cookie must prove where it comes from: its `Origin` (or, without one, its `Referer`) must be one
of `ALLOWED_ORIGINS`, and `Sec-Fetch-Site: cross-site` is refused outright (a frontend on another
site uses Bearer tokens; third-party cookies are on their way out anyway). A request with neither
header is refused too: every current browser sends `Origin` on a POST. Bearer requests are exempt:
a browser never adds an `Authorization` header on its own, so another site cannot forge one.
Safe methods (GET, HEAD) change nothing and are not checked (image previews are plain GETs).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final
from urllib.parse import urlsplit

from shared.errors import ForbiddenError

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased; None when it has no usable origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default_port = {"http": 80, "https": 443}[parts.scheme]
    suffix = f":{port}" if port is not None and port != default_port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{suffix}"


def check_cookie_request(
    method: str, headers: Mapping[str, str], allowed_origins: Collection[str]
) -> None:
    """Raise `ForbiddenError` unless this cookie-authenticated request is same-site and from an
    allowed origin."""
    if method.upper() in SAFE_METHODS:
        return
    if headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise ForbiddenError("Cross-site requests cannot use the session cookie.")
    allowed = {origin_of(o) for o in allowed_origins} - {None}
    origin_header = headers.get("origin")
    if origin_header is not None:
        claimed = origin_of(origin_header)  # "null" (sandboxed frames, file://) has none
    elif referer := headers.get("referer"):
        claimed = origin_of(referer)
    else:
        raise ForbiddenError("A request authenticated by cookie needs an Origin or Referer header.")
    if claimed is None or claimed not in allowed:
        raise ForbiddenError("This origin may not use the session cookie.")
