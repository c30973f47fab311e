"""Issuing and verifying the HS256 user tokens the gateway accepts."""

from __future__ import annotations

import time

import jwt

from shared.errors import UnauthorizedError

ALGORITHM = "HS256"
# pyjwt only checks claims that are present; requiring them makes a token without `exp` invalid
# instead of valid forever.
REQUIRED_CLAIMS = ["sub", "exp", "iat"]
LEEWAY_S = 30


def issue_token(secret: str, user_id: str, *, ttl_s: int = 86_400) -> str:
    """Sign a token for `user_id` (used by `taskchat token` and tests; production tokens come
    from the identity provider that shares `JWT_SECRET`)."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_s}, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> str:
    """Return the user id (`sub`) of a valid token, or raise `UnauthorizedError`."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": REQUIRED_CLAIMS},
            leeway=LEEWAY_S,
        )
    except jwt.ExpiredSignatureError as exc:
        raise UnauthorizedError("The session token has expired; sign in again.") from exc
    except jwt.InvalidTokenError as exc:
        raise UnauthorizedError(f"The session token is invalid: {exc}.") from exc
    user_id = claims.get("sub")
    if not isinstance(user_id, str) or not user_id.strip() or len(user_id) > 255:
        raise UnauthorizedError("The session token has no usable subject (sub).")
    return user_id
