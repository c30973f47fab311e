"""Security settings: one way to verify tokens, strong HS256 secrets, and settings that never
print a secret."""

from __future__ import annotations

import pytest

from shared.settings import Settings, SettingsError
from tests.keys import ed25519_key, public_pem

BASE = {
    "DATABASE_URL": "postgresql://taskchat:db-password-123@127.0.0.1/taskchat",
    "REDIS_URL": "redis://:redis-password-456@127.0.0.1:6379/0",
    "GEMINI_API_KEY": "gemini-key-789",
}
SECRET = "a-secret-of-thirty-two-bytes-or-more!"


def problems(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return str(caught.value)


def test_a_short_hs256_secret_is_refused_at_start_up() -> None:
    text = problems({**BASE, "JWT_SECRET": "x" * 31})
    assert "JWT_SECRET is 31 bytes; HS256 needs at least 32" in text
    assert "x" * 31 not in text


def test_some_way_to_verify_tokens_is_required() -> None:
    assert "JWT_SECRET is not set" in problems(BASE)


def test_only_one_way_to_verify_tokens() -> None:
    text = problems({**BASE, "JWT_SECRET": SECRET, "JWT_JWKS_URL": "https://id.example/jwks"})
    assert "set only one of JWT_SECRET, JWT_JWKS_URL" in text


def test_public_key_must_be_a_usable_pem() -> None:
    assert "JWT_PUBLIC_KEY is not a usable PEM" in problems({**BASE, "JWT_PUBLIC_KEY": "abc"})
    pem = public_pem(ed25519_key())
    settings = Settings.from_env({**BASE, "JWT_PUBLIC_KEY": pem.replace("\n", "\\n")})
    assert settings.auth.jwt_public_key == pem


def test_jwks_url_and_claims_settings() -> None:
    settings = Settings.from_env(
        {
            **BASE,
            "JWT_JWKS_URL": "https://id.example/api/auth/jwks",
            "JWT_AUDIENCE": "https://id.example",
            "JWT_ISSUER": "https://id.example",
            "JWT_LEEWAY_S": "10",
        }
    )
    auth = settings.auth
    assert (auth.jwks_url, auth.audience, auth.issuer, auth.leeway_s) == (
        "https://id.example/api/auth/jwks",
        "https://id.example",
        "https://id.example",
        10.0,
    )
    assert "JWT_JWKS_URL='ftp://x' must start with" in problems({**BASE, "JWT_JWKS_URL": "ftp://x"})


def test_limit_defaults() -> None:
    limits = Settings.from_env({**BASE, "JWT_SECRET": SECRET}).limits
    assert limits.daily_messages == 100
    assert limits.concurrent_streams == 3
    assert limits.anonymous_requests_per_minute == 60
    assert limits.max_message_chars == 8000
    assert Settings.from_env({**BASE, "JWT_SECRET": SECRET}).gateway.max_body_bytes == 1048576


def test_settings_print_redacted() -> None:
    settings = Settings.from_env({**BASE, "JWT_SECRET": SECRET})
    for shown in (repr(settings), str(settings), f"{settings}"):
        for secret in (SECRET, "db-password-123", "redis-password-456", "gemini-key-789"):
            assert secret not in shown
        assert "jwt_secret='***'" in shown
        assert "postgresql://taskchat:***@127.0.0.1/taskchat" in shown
    # The values themselves are intact for the code that needs them.
    assert settings.auth.jwt_secret == SECRET
    assert settings.gemini.api_key == "gemini-key-789"
