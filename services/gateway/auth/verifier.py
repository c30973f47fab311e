"""The one entry point that turns a token into a user id: `TokenVerifier.verify`.

The key decides the algorithm (HS256 for `JWT_SECRET`; RS256, ES256 or EdDSA for a public key),
never the token's header. Every failure is a 401 with a short, fixed reason: no token text and
no library message (which could echo claims) reaches the client or the log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol

import jwt

from shared.auth.public_keys import PublicKey, load_public_key
from shared.errors import UnauthorizedError
from shared.settings import AuthSettings

HS256: Final = "HS256"
REQUIRED_CLAIMS: Final = ["exp", "sub"]
MAX_TOKEN_CHARS: Final = 8192
"""Longer "tokens" are refused before any parsing."""
MAX_SUBJECT_CHARS: Final = 255


@dataclass(frozen=True, slots=True)
class VerificationKey:
    key: str | PublicKey
    algorithm: str


class KeySource(Protocol):
    async def key_for(self, header: Mapping[str, Any]) -> VerificationKey:
        """The key for a token with this (unverified) header, or `UnauthorizedError`."""
        ...


class StaticKey:
    """One configured key: the HS256 secret or a PEM public key."""

    def __init__(self, key: VerificationKey) -> None:
        self._key = key

    async def key_for(self, header: Mapping[str, Any]) -> VerificationKey:
        return self._key


def rejected(reason: str) -> UnauthorizedError:
    return UnauthorizedError(f"Invalid session token: {reason}. Sign in again.")


# Most specific first: several are subclasses of the later ones.
_REASONS: Final[list[tuple[type[jwt.InvalidTokenError], str]]] = [
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not valid yet"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.DecodeError, "malformed"),
]


def _reason(exc: jwt.InvalidTokenError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"missing claim '{exc.claim}'"
    return next((text for kind, text in _REASONS if isinstance(exc, kind)), "invalid")


class TokenVerifier:
    def __init__(
        self,
        keys: KeySource,
        *,
        audience: str | None = None,
        issuer: str | None = None,
        leeway_s: float = 30.0,
    ) -> None:
        self._keys = keys
        self._audience = audience
        self._issuer = issuer
        self._leeway_s = leeway_s

    async def verify(self, token: str) -> str:
        """The user id (`sub`) of a valid token; `UnauthorizedError` with a short reason."""
        if len(token) > MAX_TOKEN_CHARS:
            raise rejected("too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise rejected("malformed") from None
        key = await self._keys.key_for(header)
        if header.get("alg") != key.algorithm:
            raise rejected("algorithm not allowed")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": REQUIRED_CLAIMS, "verify_aud": self._audience is not None},
            )
        except jwt.InvalidTokenError as exc:
            raise rejected(_reason(exc)) from None
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT_CHARS:
            raise rejected("no usable subject (sub)")
        return subject


def static_key(settings: AuthSettings) -> StaticKey | None:
    """The key source for `JWT_SECRET` or `JWT_PUBLIC_KEY`; None when a JWKS URL is used."""
    if settings.jwt_secret is not None:
        return StaticKey(VerificationKey(settings.jwt_secret, HS256))
    if settings.jwt_public_key is not None:
        public_key, algorithm = load_public_key(settings.jwt_public_key)
        return StaticKey(VerificationKey(public_key, algorithm))
    return None
