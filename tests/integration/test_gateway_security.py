"""The gateway's doors in-process, on real Postgres and Redis: token failures, cross-site
requests, JSON-only bodies, CORS, and the per-IP limit for traffic without a valid token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from services.gateway.app import create_app
from services.gateway.auth.tokens import issue_token
from shared.db.pool import DbPool
from shared.settings import Settings
from tests.keys import claims, sign, unsigned_token

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Inferred dependency field:litestar.exceptions.LitestarDeprecationWarning"
)

FRONTEND = "https://chat.example.com"
LIST = {"type": "threads.list", "params": {}}


@pytest.fixture
async def client(
    base_env: dict[str, str],
    db_pool: DbPool,
    redis_client: Any,  # flushes the quota counters
) -> AsyncIterator[AsyncTestClient[Any]]:
    env = {**base_env, "ALLOWED_ORIGINS": FRONTEND, "ANONYMOUS_RATE_PER_MINUTE": "20"}
    app = create_app(Settings.from_env(env, needs_model=False))
    async with AsyncTestClient(app=app) as test_client:
        test_client.secret = env["JWT_SECRET"]  # type: ignore[attr-defined]
        yield test_client


def bearer(client: AsyncTestClient[Any], user: str = "alice") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(client.secret, user)}"}  # type: ignore[attr-defined]


def cookie(client: AsyncTestClient[Any], user: str = "alice") -> dict[str, str]:
    return {"Cookie": f"auth_token={issue_token(client.secret, user)}"}  # type: ignore[attr-defined]


def assert_json_error(response: httpx.Response, status: int, text: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert text in response.json()["detail"]


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda s: unsigned_token(claims()), "algorithm not allowed"),
        (lambda s: sign(claims(ttl_s=-3600), s, "HS256"), "expired"),
        (lambda s: sign(claims(nbf=claims()["iat"] + 3600), s, "HS256"), "not valid yet"),
        (lambda s: sign(claims(), "another-secret-that-is-32-bytes-long", "HS256"), "signature"),
        (lambda s: sign({"sub": "alice"}, s, "HS256"), "missing claim 'exp'"),
        (lambda s: "garbage", "malformed"),
    ],
)
async def test_bad_tokens_are_401_with_a_short_reason(
    client: AsyncTestClient[Any], make_token: Any, reason: str
) -> None:
    token = make_token(client.secret)  # type: ignore[attr-defined]
    response = await client.post(
        "/chatkit", json=LIST, headers={"Authorization": f"Bearer {token}"}
    )
    assert_json_error(response, 401, reason)
    assert token not in response.text
    assert response.headers["www-authenticate"] == "Bearer"


async def test_cookie_requests_must_come_from_an_allowed_origin(
    client: AsyncTestClient[Any],
) -> None:
    ok = await client.post("/chatkit", json=LIST, headers={**cookie(client), "Origin": FRONTEND})
    assert ok.status_code == 200, ok.text
    referer = {**cookie(client), "Referer": f"{FRONTEND}/chat"}
    assert (await client.post("/chatkit", json=LIST, headers=referer)).status_code == 200
    for headers in (
        {"Origin": "https://evil.example"},
        {"Referer": "https://evil.example/"},
        {"Origin": FRONTEND, "Sec-Fetch-Site": "cross-site"},
        {},
    ):
        response = await client.post("/chatkit", json=LIST, headers={**cookie(client), **headers})
        assert_json_error(response, 403, "")


async def test_bearer_requests_are_not_subject_to_origin_checks(
    client: AsyncTestClient[Any],
) -> None:
    headers = {**bearer(client), "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert (await client.post("/chatkit", json=LIST, headers=headers)).status_code == 200


async def test_the_attachment_upload_is_protected_too(client: AsyncTestClient[Any]) -> None:
    response = await client.post(
        "/attachments/atc_x/upload",
        content=b"x",
        headers={**cookie(client), "Origin": "https://evil.example"},
    )
    assert_json_error(response, 403, "origin")


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None],
)
async def test_only_json_bodies_are_accepted(
    client: AsyncTestClient[Any], content_type: str | None
) -> None:
    headers = bearer(client)
    if content_type:
        headers["Content-Type"] = content_type
    response = await client.post(
        "/chatkit", content=b'{"type":"threads.list","params":{}}', headers=headers
    )
    assert_json_error(response, 415, "application/json")
    ok = {**headers, "Content-Type": "application/json; charset=utf-8"}
    response = await client.post(
        "/chatkit", content=b'{"type":"threads.list","params":{}}', headers=ok
    )
    assert response.status_code == 200


async def test_cors_allows_credentials_only_for_the_exact_origins(
    client: AsyncTestClient[Any],
) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await client.options("/chatkit", headers={**preflight, "Origin": FRONTEND})
    assert allowed.headers["access-control-allow-origin"] == FRONTEND
    assert allowed.headers["access-control-allow-credentials"] == "true"
    other = await client.options(
        "/chatkit", headers={**preflight, "Origin": "https://evil.example"}
    )
    assert other.headers.get("access-control-allow-origin") not in ("*", "https://evil.example")
    sent = await client.post(
        "/chatkit", json=LIST, headers={**bearer(client), "Origin": "https://evil.example"}
    )
    assert sent.headers.get("access-control-allow-origin") not in ("*", "https://evil.example")


async def test_too_many_requests_without_a_valid_token_is_429(
    client: AsyncTestClient[Any],
) -> None:
    for _ in range(20):
        assert (await client.post("/chatkit", json=LIST)).status_code == 401
    refused = await client.post("/chatkit", json=LIST, headers={"Authorization": "Bearer x"})
    assert_json_error(refused, 429, "valid session token")
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    # Signed-in users are not affected.
    assert (await client.post("/chatkit", json=LIST, headers=bearer(client))).status_code == 200


async def test_long_messages_are_refused(client: AsyncTestClient[Any]) -> None:
    text = "x" * 8001
    request = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": text}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    response = await client.post("/chatkit", json=request, headers=bearer(client))
    assert_json_error(response, 400, "the limit is 8,000")
