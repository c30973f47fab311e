"""Which JWT algorithm each kind of public key verifies: the allow-list of asymmetric algorithms.

A key determines its algorithm; the token's header never does. That is what stops key confusion
(an HS256 token "signed" with a public key) and `alg: none`.
"""

from __future__ import annotations

from typing import Final, TypeAlias

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

PublicKey: TypeAlias = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

ASYMMETRIC_ALGORITHMS: Final = frozenset({"RS256", "ES256", "EdDSA"})
"""Algorithms accepted with a public key (PEM or JWKS)."""
MIN_RSA_BITS: Final = 2048


def algorithm_for(key: object) -> str:
    """The one algorithm `key` verifies, or `ValueError` for keys we do not accept."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(f"RSA keys need at least {MIN_RSA_BITS} bits, not {key.key_size}")
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if not isinstance(key.curve, ec.SECP256R1):
            raise ValueError(f"EC keys must be on P-256 (ES256), not {key.curve.name}")
        return "ES256"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "EdDSA"
    raise ValueError(f"{type(key).__name__} keys are not accepted (RSA, EC P-256 or Ed25519)")


def load_public_key(pem: str) -> tuple[PublicKey, str]:
    """Parse a PEM public key; return it with its algorithm, or raise `ValueError`."""
    try:
        key = load_pem_public_key(pem.encode())
    except UnsupportedAlgorithm as exc:
        raise ValueError(str(exc)) from exc
    algorithm = algorithm_for(key)
    assert isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey)
    return key, algorithm
