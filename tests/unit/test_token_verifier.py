"""The token verifier: the key decides the algorithm, claims are required, every failure is a
401 with a short reason and without the token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable

import pytest

from services.gateway.auth.verifier import TokenVerifier, static_key
from shared.errors import UnauthorizedError
from shared.settings import AuthSettings
from tests.keys import (
    claims,
    ec_key,
    ed25519_key,
    public_pem,
    rsa_key,
    sign,
    unsigned_token,
)

SECRET = "verifier-test-secret-of-32-bytes-or-more"


def hs256_verifier(**options: str) -> TokenVerifier:
    settings = AuthSettings(jwt_secret=SECRET, **options)  # type: ignore[arg-type]
    keys = static_key(settings)
    assert keys is not None
    return TokenVerifier(keys, audience=settings.audience, issuer=settings.issuer, leeway_s=5)


def pem_verifier(pem: str) -> TokenVerifier:
    keys = static_key(AuthSettings(jwt_public_key=pem))
    assert keys is not None
    return TokenVerifier(keys, leeway_s=5)


async def reason_for(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(UnauthorizedError) as caught:
        await verifier.verify(token)
    assert not token or token not in caught.value.detail
    return caught.value.detail


async def test_a_valid_hs256_token_names_its_user() -> None:
    assert await hs256_verifier().verify(sign(claims("alice"), SECRET, "HS256")) == "alice"


@pytest.mark.parametrize(
    ("make_key", "algorithm"),
    [(rsa_key, "RS256"), (ec_key, "ES256"), (ed25519_key, "EdDSA")],
)
async def test_public_keys_verify_their_own_algorithm(make_key: object, algorithm: str) -> None:
    key = make_key()  # type: ignore[operator]
    verifier = pem_verifier(public_pem(key))
    assert await verifier.verify(sign(claims("bob"), key, algorithm)) == "bob"


async def test_alg_none_is_refused() -> None:
    assert "algorithm not allowed" in await reason_for(hs256_verifier(), unsigned_token(claims()))


async def test_key_confusion_hs256_signed_with_the_public_key_is_refused() -> None:
    key = rsa_key()
    pem = public_pem(key)
    # What an attacker who knows the public key can make: HMAC over header.claims with the PEM.
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = base64.urlsafe_b64encode(json.dumps(claims("mallory")).encode())
    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    mac = hmac.new(pem.encode(), signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    assert "algorithm not allowed" in await reason_for(pem_verifier(pem), token)


async def test_a_token_of_another_key_type_is_refused() -> None:
    verifier = pem_verifier(public_pem(ed25519_key()))
    other = ec_key()
    assert "algorithm not allowed" in await reason_for(verifier, sign(claims(), other, "ES256"))


async def test_a_token_signed_by_another_key_has_a_bad_signature() -> None:
    verifier = pem_verifier(public_pem(ed25519_key()))
    assert "bad signature" in await reason_for(verifier, sign(claims(), ed25519_key(), "EdDSA"))


# The claims are made when the test runs, not at collection: `claims()` stamps the current time,
# and a suite that takes longer than a token's lifetime to reach these would test expiry instead.
@pytest.mark.parametrize(
    ("make_payload", "reason"),
    [
        (lambda: claims(ttl_s=-3600), "expired"),
        (lambda: claims(nbf=claims()["iat"] + 3600), "not valid yet"),
        (lambda: {"sub": "alice"}, "missing claim 'exp'"),
        (lambda: {k: v for k, v in claims().items() if k != "sub"}, "missing claim 'sub'"),
        (lambda: claims(sub=""), "no usable subject"),
        (lambda: claims(sub=42), "invalid"),
    ],
)
async def test_claims_are_checked(
    make_payload: Callable[[], dict[str, object]], reason: str
) -> None:
    assert reason in await reason_for(hs256_verifier(), sign(make_payload(), SECRET, "HS256"))


async def test_audience_and_issuer_are_checked_when_configured() -> None:
    verifier = hs256_verifier(audience="https://chat.example", issuer="https://id.example")
    good = claims(aud="https://chat.example", iss="https://id.example")
    assert await verifier.verify(sign(good, SECRET, "HS256")) == "alice"
    wrong_aud = {**good, "aud": "https://evil.example"}
    assert "wrong audience" in await reason_for(verifier, sign(wrong_aud, SECRET, "HS256"))
    wrong_iss = {**good, "iss": "https://evil.example"}
    assert "wrong issuer" in await reason_for(verifier, sign(wrong_iss, SECRET, "HS256"))
    no_aud = {k: v for k, v in good.items() if k != "aud"}
    assert "missing claim 'aud'" in await reason_for(verifier, sign(no_aud, SECRET, "HS256"))


@pytest.mark.parametrize(
    "token", ["", "not-a-token", "a.b.c", "e30.e30.", "x" * 10_000, "\u00ff.\u00fe.\u00fd"]
)
async def test_malformed_tokens_are_refused_with_a_short_reason(token: str) -> None:
    detail = await reason_for(hs256_verifier(), token)
    assert detail.startswith("Invalid session token: ")
    assert len(detail) < 100


async def test_small_clock_skew_is_tolerated() -> None:
    just_expired = claims(ttl_s=-2)  # the verifier allows 5 s
    assert await hs256_verifier().verify(sign(just_expired, SECRET, "HS256")) == "alice"
