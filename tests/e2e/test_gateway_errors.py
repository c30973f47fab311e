"""Bad input gets a clear 4xx JSON answer, never a 500 or a hung stream."""

from __future__ import annotations

import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from services.gateway.auth.tokens import issue_token
from tests.e2e.conftest import FRONTEND_ORIGIN, System

pytestmark = pytest.mark.e2e


def test_missing_token_is_401(system: System) -> None:
    response = httpx.post(f"{system.gateway_url}/chatkit", json={"type": "threads.list"})
    assert response.status_code == 401
    assert "Sign in" in response.json()["detail"]


def test_token_signed_with_another_secret_is_401(system: System) -> None:
    token = issue_token("some-other-secret-of-sufficient-length", "eve")
    response = httpx.post(
        f"{system.gateway_url}/chatkit",
        json={"type": "threads.list", "params": {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401


def test_cookie_authentication(system: System) -> None:
    response = httpx.post(
        f"{system.gateway_url}/api/chatkit",
        json={"type": "threads.list", "params": {}},
        cookies={"auth_token": system.token("cookie-user")},
        headers={"Origin": FRONTEND_ORIGIN},
    )
    assert response.status_code == 200
    assert response.json()["data"] == []


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"type": "threads.explode", "params": {}}', "Unknown ChatKit request type"),
        (b'{"params": {}}', "no 'type'"),
        (b'{"type": "threads.get_by_id", "params": {}}', "thread_id"),
    ],
)
def test_invalid_requests_are_400(system: System, body: bytes, expected: str) -> None:
    response = httpx.post(
        f"{system.gateway_url}/chatkit",
        content=body,
        headers={
            "Authorization": f"Bearer {system.token('dan')}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400, response.text
    assert expected in response.json()["detail"]


def test_unknown_thread_is_404(system: System) -> None:
    client = ChatKitClient(system.gateway_url, system.token("erin"))
    try:
        response = client.request({"type": "threads.get_by_id", "params": {"thread_id": "thr_x"}})
        assert response.status_code == 404
    finally:
        client.close()


def test_oversized_body_is_413(system: System) -> None:
    response = httpx.post(
        f"{system.gateway_url}/chatkit",
        content=b"{" + b" " * 2_000_000 + b"}",
        headers={
            "Authorization": f"Bearer {system.token('frank')}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 413
