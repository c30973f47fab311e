"""Keys from an identity provider's JWKS (Better Auth: `<base>/api/auth/jwks`), cached.

Fetched with httpx on the event loop (pyjwt's `PyJWKClient` blocks in urllib and refetches on
every unknown `kid`). A fetch happens when the cache is empty or older than `max_age_s`, or when
a token names a `kid` we do not know, but never twice within `cooldown_s`: tokens with random
`kid`s cannot make the gateway hammer the provider. Concurrent requests share one fetch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import jwt

from services.gateway.auth.verifier import VerificationKey, rejected
from shared.auth.public_keys import ASYMMETRIC_ALGORITHMS, PublicKey, algorithm_for
from shared.errors import ServiceUnavailableError

logger = logging.getLogger(__name__)

MAX_JWKS_BYTES = 256 * 1024


def parse_jwks(document: object) -> dict[str | None, VerificationKey]:
    """Signing keys of a JWKS by `kid`; keys of other kinds or uses are skipped."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS (no 'keys' list)")
    found: dict[str | None, VerificationKey] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            jwk = jwt.PyJWK(entry)
            key: PublicKey = jwk.key
            algorithm = algorithm_for(key)
        except (jwt.PyJWTError, ValueError, TypeError):
            continue  # an HMAC ("oct") key, a private key, or a kind we do not accept
        # A key that names its algorithm must name the one its type implies.
        if algorithm not in ASYMMETRIC_ALGORITHMS or entry.get("alg", algorithm) != algorithm:
            continue
        found[jwk.key_id] = VerificationKey(key, algorithm)
    return found


class JwksKeys:
    def __init__(
        self,
        url: str,
        http: httpx.AsyncClient,
        *,
        cooldown_s: float,
        max_age_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._http = http
        self._cooldown_s = cooldown_s
        self._max_age_s = max_age_s
        self._clock = clock
        self._keys: dict[str | None, VerificationKey] = {}
        self._fetched_at: float | None = None  # last successful fetch
        self._attempted_at: float | None = None  # last fetch, successful or not
        self._lock = asyncio.Lock()
        self.fetches = 0
        """Fetch attempts so far (for tests and metrics)."""

    async def key_for(self, header: Mapping[str, Any]) -> VerificationKey:
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise rejected("malformed")
        if self._stale() or self._find(kid) is None:
            await self._refresh()
        key = self._find(kid)
        if key is not None:
            return key
        if not self._keys:
            raise ServiceUnavailableError(
                "The identity provider's signing keys are unavailable; try again shortly."
            )
        raise rejected("unknown signing key")

    def _find(self, kid: str | None) -> VerificationKey | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))  # a one-key set needs no kid
        return self._keys.get(kid)

    def _stale(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._max_age_s

    async def _refresh(self) -> None:
        async with self._lock:
            now = self._clock()
            if self._attempted_at is not None and now - self._attempted_at < self._cooldown_s:
                return  # fetched (or tried) recently, maybe by a request we waited for
            self._attempted_at = now
            self.fetches += 1
            try:
                response = await self._http.get(self._url, headers={"Accept": "application/json"})
                response.raise_for_status()
                if len(response.content) > MAX_JWKS_BYTES:
                    raise ValueError("the JWKS is too large")
                keys = parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                logger.warning(
                    "could not fetch the JWKS from %s: %s", self._url, type(exc).__name__
                )
                return  # keep the keys we had
            if not keys:
                logger.warning("the JWKS at %s has no usable signing key", self._url)
                return
            self._keys = keys
            self._fetched_at = now
