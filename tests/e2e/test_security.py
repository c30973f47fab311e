"""Security through the real processes: quotas shared by gateway replicas and kept across a
restart, the concurrent-stream limit, slow clients cut off, tokens never logged, and an identity
provider's JWKS."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from services.chatkit_client.requests import threads_create
from tests.conftest import Backends
from tests.e2e.conftest import JWT_SECRET, System, running_system
from tests.e2e.processes import free_port, wait_healthy
from tests.jwks_server import serving_jwks
from tests.keys import claims, ed25519_key, okp_jwk, sign, unsigned_token

pytestmark = pytest.mark.e2e

DAILY_QUOTA = 3


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    limits = {
        "DAILY_MESSAGE_QUOTA": str(DAILY_QUOTA),
        "MAX_CONCURRENT_STREAMS": "1",
        "BODY_READ_TIMEOUT_S": "1",
    }
    with running_system(backends, tmp_path_factory, "e2e-security", limits) as running:
        yield running


def start_gateway(system: System, name: str) -> str:
    port = free_port()
    gateway = system.processes.start(
        name, "services.gateway", {**system.env, "GATEWAY_PORT": str(port)}
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(f"{url}/healthz", gateway)
    return url


def wait_for(predicate: Any, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached")


def test_daily_quota_holds_across_replicas_and_restarts(system: System) -> None:
    user = f"quota-{uuid.uuid4().hex[:8]}"
    second_url = start_gateway(system, "gateway-2")
    first = ChatKitClient(system.gateway_url, system.token(user))
    second = ChatKitClient(second_url, system.token(user))
    try:
        for client in (first, second, first):
            turn = client.create_thread("hello")
            assert turn.status_code == 200 and not turn.of_type("error"), turn.raw_events
        refused = second.request(threads_create("one too many"))
        assert refused.status_code == 429, refused.text
        assert f"{DAILY_QUOTA} messages for today" in refused.json()["detail"]
        assert 0 < int(refused.headers["retry-after"]) <= 86_401

        system.service("gateway-2").stop()
        system.processes.running.remove(system.service("gateway-2"))
        restarted = ChatKitClient(start_gateway(system, "gateway-2"), system.token(user))
        try:
            assert restarted.request(threads_create("after restart")).status_code == 429
        finally:
            restarted.close()
        other = ChatKitClient(system.gateway_url, system.token(f"other-{user}"))
        try:
            assert other.create_thread("hi").status_code == 200
        finally:
            other.close()
    finally:
        first.close()
        second.close()


def test_concurrent_streams_are_limited(system: System) -> None:
    user = f"streams-{uuid.uuid4().hex[:8]}"
    headers = {"Authorization": f"Bearer {system.token(user)}"}
    client = ChatKitClient(system.gateway_url, system.token(user))
    try:
        with (
            httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as http,
            http.stream("POST", "/chatkit", json=threads_create("hi [[fail:hang]]")) as open_one,
        ):
            lines = open_one.iter_lines()  # kept: dropping the iterator closes the connection
            for line in lines:
                if line.startswith("data: "):
                    break  # the stream is open and the model "thinking"
            refused = client.request(threads_create("a second one"))
            assert refused.status_code == 429, refused.text
            assert "streaming" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) > 0
            turn_id = open_one.headers["x-turn-id"]
        # With ON_DISCONNECT=continue (the default) a closed stream's turn runs on and keeps its
        # slot; the user's stop ends it, and the slot comes free (refused attempts cost nothing).
        refused = client.request(threads_create("still one running"))
        assert refused.status_code == 429, refused.text
        assert http_post(system, f"/chatkit/turns/{turn_id}/cancel", headers).status_code == 202
        wait_for(lambda: client.request(threads_create("now")).status_code == 200)
    finally:
        client.close()


def http_post(system: System, path: str, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(base_url=system.gateway_url, headers=headers, timeout=30) as http:
        return http.post(path)


def test_tokens_and_secrets_never_reach_the_logs(system: System) -> None:
    bad_tokens = [
        sign(claims("mallory", ttl_s=-3600), JWT_SECRET, "HS256"),
        sign(claims("mallory"), "forged-secret-that-is-32-bytes-long", "HS256"),
        unsigned_token(claims("mallory")),
        "not.a.token-" + uuid.uuid4().hex,
    ]
    for token in bad_tokens:
        response = httpx.post(
            f"{system.gateway_url}/chatkit",
            json={"type": "threads.list", "params": {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 401
        assert token not in response.text
        cookie = httpx.post(
            f"{system.gateway_url}/chatkit",
            json={"type": "threads.list", "params": {}},
            cookies={"auth_token": token},
        )
        assert cookie.status_code == 401
    good = system.token("logged")
    client = ChatKitClient(system.gateway_url, good)
    try:
        assert client.create_thread("hello").status_code == 200
    finally:
        client.close()
    log = system.service("gateway").log()
    assert re.search(r'" 401\b', log)  # the requests were logged, just not their tokens
    for token in [*bad_tokens, good]:
        assert token not in log
        signature = token.split(".")[-1]
        assert not signature or signature not in log  # not even the signature part
    for service in system.processes.running:
        assert JWT_SECRET not in service.log()


def test_an_identity_providers_jwks_works_out_of_the_box(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory
) -> None:
    key = ed25519_key()
    issuer = "http://127.0.0.1:3000"
    with serving_jwks() as jwks:
        jwks.keys = [okp_jwk(key, "better-auth-key-1")]
        env = {
            "JWT_SECRET": "",
            "JWT_JWKS_URL": jwks.url,
            "JWT_AUDIENCE": issuer,
            "JWT_ISSUER": issuer,
        }
        with running_system(backends, tmp_path_factory, "e2e-jwks", env) as jwks_system:
            user = f"ba-{uuid.uuid4().hex[:8]}"
            token = sign(claims(user, aud=issuer, iss=issuer), key, "EdDSA", "better-auth-key-1")
            client = ChatKitClient(jwks_system.gateway_url, token)
            try:
                turn = client.create_thread("add task check the jwks")
                assert turn.status_code == 200 and not turn.of_type("error"), turn.raw_events
                listed = client.request({"type": "threads.list", "params": {}})
                assert [t["id"] for t in listed.json()["data"]] == [turn.thread_id]
            finally:
                client.close()
            forged = sign(claims(user, aud=issuer, iss=issuer), ed25519_key(), "EdDSA", "x")
            response = httpx.post(
                f"{jwks_system.gateway_url}/chatkit",
                json={"type": "threads.list", "params": {}},
                headers={"Authorization": f"Bearer {forged}"},
            )
            assert response.status_code == 401
            assert response.json()["detail"] == (
                "Invalid session token: unknown signing key. Sign in again."
            )


def _read_response(sock: socket.socket) -> bytes:
    """Headers and the whole body (it may come in a later segment than the headers)."""
    answer = b""
    while b"\r\n\r\n" not in answer and (chunk := sock.recv(65536)):
        answer += chunk
    headers, _, body = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in headers.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length and (chunk := sock.recv(65536)):
        body += chunk
    return headers + b"\r\n\r\n" + body


def test_a_client_that_trickles_its_body_is_cut_off(system: System) -> None:
    gateway = urlsplit(system.gateway_url)
    assert gateway.hostname is not None and gateway.port is not None
    head = (
        "POST /chatkit HTTP/1.1\r\n"
        f"Host: {gateway.netloc}\r\n"
        f"Authorization: Bearer {system.token('slow-client')}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 1000\r\n\r\n"
        '{"type": '
    )
    with socket.create_connection((gateway.hostname, gateway.port), timeout=30) as sock:
        sock.sendall(head.encode())  # ... and then nothing more
        answer = _read_response(sock)
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 408"), answer
    assert b"did not arrive within 1 s" in rest
