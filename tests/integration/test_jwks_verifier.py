"""Tokens of an identity provider that publishes EdDSA keys with `kid`s in a JWKS (Better Auth's
JWT plugin), fetched over real HTTP: cached, refreshed on an unknown `kid` at most once per
cool-down, and never fetched in a storm."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from services.gateway.auth.jwks import JwksKeys
from services.gateway.auth.verifier import TokenVerifier
from shared.errors import ServiceUnavailableError, UnauthorizedError
from tests.jwks_server import JwksServer, serving_jwks
from tests.keys import claims, ec_key, ed25519_key, okp_jwk, sign

ISSUER = "http://127.0.0.1:3000"
COOLDOWN_S = 60.0


class FakeClock:
    """Cool-down and cache age are decided by this clock, so no test waits for real time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    with serving_jwks() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def verifier_for(jwks: JwksServer, http: httpx.AsyncClient, clock: FakeClock) -> TokenVerifier:
    keys = JwksKeys(jwks.url, http, cooldown_s=COOLDOWN_S, max_age_s=3600, clock=clock)
    return TokenVerifier(keys, audience=ISSUER, issuer=ISSUER, leeway_s=5)


def better_auth_token(key: object, kid: str, user_id: str = "user_1") -> str:
    # Better Auth's JWT plugin: EdDSA, `kid` in the header, iss and aud its base URL.
    return sign(claims(user_id, aud=ISSUER, iss=ISSUER), key, "EdDSA", kid=kid)  # type: ignore[arg-type]


async def test_better_auth_style_tokens_verify(jwks: JwksServer, http: httpx.AsyncClient) -> None:
    key = ed25519_key()
    jwks.keys = [okp_jwk(key, "kid-1")]
    verifier = verifier_for(jwks, http, FakeClock())
    assert await verifier.verify(better_auth_token(key, "kid-1", "u-42")) == "u-42"
    assert await verifier.verify(better_auth_token(key, "kid-1", "u-43")) == "u-43"
    assert jwks.requests == 1  # cached


async def test_random_kids_cause_at_most_one_fetch_per_cooldown(
    jwks: JwksServer, http: httpx.AsyncClient
) -> None:
    key = ed25519_key()
    jwks.keys = [okp_jwk(key, "kid-1")]
    clock = FakeClock()
    verifier = verifier_for(jwks, http, clock)
    await verifier.verify(better_auth_token(key, "kid-1"))
    clock.now += COOLDOWN_S  # the next unknown kid may refetch once
    for _ in range(50):
        with pytest.raises(UnauthorizedError, match="unknown signing key"):
            await verifier.verify(better_auth_token(key, uuid.uuid4().hex))
    assert jwks.requests == 2


async def test_a_rotated_key_is_picked_up_after_the_cooldown(
    jwks: JwksServer, http: httpx.AsyncClient
) -> None:
    old, new = ed25519_key(), ed25519_key()
    jwks.keys = [okp_jwk(old, "old")]
    clock = FakeClock()
    verifier = verifier_for(jwks, http, clock)
    assert await verifier.verify(better_auth_token(old, "old")) == "user_1"
    jwks.keys = [okp_jwk(old, "old"), okp_jwk(new, "new")]
    clock.now += 1
    with pytest.raises(UnauthorizedError, match="unknown signing key"):
        await verifier.verify(better_auth_token(new, "new"))  # within the cool-down
    clock.now += COOLDOWN_S
    assert await verifier.verify(better_auth_token(new, "new")) == "user_1"
    assert jwks.requests == 2


async def test_jwks_keys_decide_the_algorithm(jwks: JwksServer, http: httpx.AsyncClient) -> None:
    key = ed25519_key()
    jwks.keys = [
        okp_jwk(key, "kid-1"),
        {"kty": "oct", "k": "c" * 43, "kid": "hmac"},  # an HMAC key in a JWKS is ignored
    ]
    verifier = verifier_for(jwks, http, FakeClock())
    hs_token = sign(claims(aud=ISSUER, iss=ISSUER), "s" * 32, "HS256", kid="hmac")
    with pytest.raises(UnauthorizedError):
        await verifier.verify(hs_token)
    es_token = sign(claims(aud=ISSUER, iss=ISSUER), ec_key(), "ES256", kid="kid-1")
    with pytest.raises(UnauthorizedError, match="algorithm not allowed"):
        await verifier.verify(es_token)


async def test_an_unreachable_provider_is_503_then_retried_after_the_cooldown(
    jwks: JwksServer, http: httpx.AsyncClient
) -> None:
    key = ed25519_key()
    jwks.keys = [okp_jwk(key, "kid-1")]
    jwks.failing = True
    clock = FakeClock()
    verifier = verifier_for(jwks, http, clock)
    for _ in range(5):
        with pytest.raises(ServiceUnavailableError):
            await verifier.verify(better_auth_token(key, "kid-1"))
    assert jwks.requests == 1
    jwks.failing = False
    clock.now += COOLDOWN_S
    assert await verifier.verify(better_auth_token(key, "kid-1")) == "user_1"
