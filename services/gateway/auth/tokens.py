"""Issuing HS256 user tokens for development and tests (`taskchat token`); production tokens
come from the identity provider. Verification is `services.gateway.auth.verifier`."""

from __future__ import annotations

import time

import jwt

ALGORITHM = "HS256"


def issue_token(secret: str, user_id: str, *, ttl_s: int = 86_400) -> str:
    """Sign a token for `user_id` (used by `taskchat token` and tests; production tokens come
    from the identity provider that shares `JWT_SECRET`)."""
    now = int(time.time())
    return jwt.encode({"sub": user_id, "iat": now, "exp": now + ttl_s}, secret, algorithm=ALGORITHM)
