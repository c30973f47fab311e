"""Secrets and what the service discloses (issue 17.5): placeholder and guessable secrets are
refused at start-up, printed settings never show a credential, log pseudonyms cannot be
reversed by hashing candidate ids, and internal error messages stay in the logs."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from litestar import Request

from services.agent.mcp_servers import connect_mcp_servers
from services.gateway.errors import EXCEPTION_HANDLERS
from shared.observability import log_context
from shared.settings import McpClientSettings, Settings, SettingsError, parse_mcp_servers
from tests.e2e.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "DATABASE_URL": "postgresql://taskchat@127.0.0.1/taskchat",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GEMINI_API_KEY": "gemini-key-789",
}
GOOD_SECRET = "Zq7-unit-test-signing-key-4PxM2vR9sLk8Wd3"


def problems(env: dict[str, str]) -> str:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    return str(caught.value)


def example_secret(name: str) -> str:
    example = yaml.safe_load((ROOT / "deploy/k8s/base/secret.example.yaml").read_text())
    value: str = example["stringData"][name]
    return value


def test_the_example_jwt_secret_is_refused() -> None:
    secret = example_secret("JWT_SECRET")
    text = problems({**BASE, "JWT_SECRET": secret})
    assert "JWT_SECRET is a placeholder" in text
    assert secret not in text


@pytest.mark.parametrize(
    ("name", "env"),
    [
        ("GEMINI_API_KEY", {"GEMINI_API_KEY": example_secret("GEMINI_API_KEY")}),
        ("DATABASE_URL's password", {"DATABASE_URL": example_secret("DATABASE_URL")}),
    ],
)
def test_other_example_credentials_are_refused(name: str, env: dict[str, str]) -> None:
    assert f"{name} is a placeholder" in problems({**BASE, "JWT_SECRET": GOOD_SECRET, **env})


@pytest.mark.parametrize("secret", ["s" * 32, "ab" * 20, "0123" * 9])
def test_guessable_secrets_are_refused(secret: str) -> None:
    text = problems({**BASE, "JWT_SECRET": secret})
    assert "JWT_SECRET looks guessable" in text
    assert secret not in text


# Generated when the test runs: parameters that differ between collections would make each
# pytest-xdist worker collect other tests.
@pytest.mark.parametrize(
    "make_secret",
    [
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_hex(32),
        lambda: secrets.token_urlsafe(48),
    ],
    ids=["urlsafe-32", "hex-32", "urlsafe-48"],
)
def test_random_secrets_pass(make_secret: Callable[[], str]) -> None:
    secret = make_secret()
    assert Settings.from_env({**BASE, "JWT_SECRET": secret}).auth.jwt_secret == secret


def test_a_weak_log_pseudonym_secret_is_refused() -> None:
    env = {**BASE, "JWT_SECRET": GOOD_SECRET, "LOG_PSEUDONYM_SECRET": "ab" * 20}
    assert "LOG_PSEUDONYM_SECRET looks guessable" in problems(env)


def test_mcp_headers_and_url_passwords_are_not_printed() -> None:
    servers = (
        '[{"url": "https://bot:url-password-1@tools.example/mcp",'
        ' "headers": {"Authorization": "Bearer header-token-2", "X-Api-Key": "api-key-3"}}]'
    )
    settings = Settings.from_env(
        {
            **BASE,
            "JWT_SECRET": GOOD_SECRET,
            "MCP_SERVERS": servers,
            "OTEL_EXPORTER_OTLP_ENDPOINT": "https://otel:otlp-password-4@collector:4318",
            "LOG_PSEUDONYM_SECRET": secrets.token_urlsafe(32),
        }
    )
    shown = repr(settings)
    for secret in ("url-password-1", "header-token-2", "api-key-3", "otlp-password-4"):
        assert secret not in shown
    assert str(settings.observability.log_pseudonym_secret) not in shown
    assert "('Authorization', '***')" in shown and "https://bot:***@tools.example/mcp" in shown
    # The code that connects still has the values.
    assert dict(settings.mcp.servers[0].headers)["X-Api-Key"] == "api-key-3"


def test_log_pseudonyms_are_keyed() -> None:
    email = "alice@example.com"
    try:
        log_context.configure_pseudonyms("first-key-" + "k" * 30)
        first = log_context.hash_user_id(email)
        assert first == log_context.hash_user_id(email)  # stable: lines can be grouped
        # Hashing candidate addresses no longer finds the user.
        assert first != hashlib.sha256(email.encode()).hexdigest()[:16]
        log_context.configure_pseudonyms("second-key-" + "k" * 30)
        assert log_context.hash_user_id(email) != first
    finally:
        log_context.configure_pseudonyms(None)


@pytest.mark.parametrize(
    "exc",
    [
        ValueError("unsafe attachment id '../../etc/passwd' at /var/lib/taskchat"),
        NotImplementedError("GatewayChatKitServer.transcribe() is not implemented"),
    ],
)
def test_internal_messages_are_not_returned(exc: Exception) -> None:
    handler = EXCEPTION_HANDLERS[type(exc)]
    scope: Any = {"type": "http", "method": "POST", "headers": []}
    request: Request[Any, Any, Any] = Request(scope)
    response = handler(request, exc)
    assert response.status_code == 400
    assert str(exc) not in str(response.content)
    assert "passwd" not in str(response.content) and "transcribe" not in str(response.content)


async def test_an_unreachable_mcp_server_is_logged_without_its_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()  # nothing listens there
    settings = parse_mcp_servers(f"http://bot:mcp-password-5@127.0.0.1:{port}/mcp")
    with caplog.at_level(logging.INFO, logger="services.agent.mcp_servers"):
        servers = await connect_mcp_servers(McpClientSettings(servers=settings, timeout_s=2))
        await servers.close()
    assert "is unreachable" in caplog.text
    assert "mcp-password-5" not in caplog.text
    assert f"http://bot:***@127.0.0.1:{port}/mcp" in caplog.text
