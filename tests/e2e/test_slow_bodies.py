"""Slow bodies on every route, from a real socket that sends its body a byte at a time (issue
17.2): without a login the client is refused before its body is read; signed in, it gets a 408
once `BODY_READ_TIMEOUT_S` has passed. Either way the gateway answers while the body is still
arriving, long before the client would have finished sending it."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from services.chatkit_client.client import ChatKitClient
from tests.conftest import Backends
from tests.e2e.conftest import System, running_system

pytestmark = pytest.mark.e2e

DEADLINE_S = 2
BODY_BYTES = 600
BYTE_EVERY_S = 0.1  # the whole body would take 60 s
ROUTES = [
    "/chatkit",
    "/chatkit/transcribe",
    "/api/tasks",
    "/mcp",
    "upload",  # the upload URL of an attachment the signed-in user created
]


@pytest.fixture(scope="module")
def system(backends: Backends, tmp_path_factory: pytest.TempPathFactory) -> Iterator[System]:
    env = {"BODY_READ_TIMEOUT_S": str(DEADLINE_S), "TRANSCRIPTION_ENABLED": "true"}
    with running_system(backends, tmp_path_factory, "e2e-slow-bodies", env) as running:
        yield running


def trickle(gateway_url: str, path: str, token: str | None) -> tuple[int, float, int]:
    """POST a JSON body a byte at a time until the gateway answers; the status, the seconds
    until then and how many body bytes had been sent."""
    url = urlsplit(gateway_url)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\n{auth}"
        f"Content-Length: {BODY_BYTES}\r\n\r\n"
    )
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head.encode())
        for sent in range(BODY_BYTES):
            readable, _, _ = select.select([sock], [], [], BYTE_EVERY_S)
            if readable:
                answer = sock.recv(4096)
                status = int(answer.split(b" ", 2)[1]) if answer else 0
                return status, time.monotonic() - started, sent
            try:
                sock.sendall(b"{" if sent == 0 else b" ")
            except OSError:  # the gateway closed the connection: read what it said
                break
        answer = sock.recv(4096)
        status = int(answer.split(b" ", 2)[1]) if answer else 0
        return status, time.monotonic() - started, BODY_BYTES


def route_path(system: System, route: str, user_id: str) -> str:
    if route != "upload":
        return route
    chat = ChatKitClient(system.gateway_url, system.token(user_id))
    try:
        params = {"name": "slow.png", "size": BODY_BYTES, "mime_type": "image/png"}
        created = chat.request({"type": "attachments.create", "params": params})
    finally:
        chat.close()
    assert created.status_code == 200, created.text
    return str(urlsplit(created.json()["upload_descriptor"]["url"]).path)


@pytest.mark.parametrize("route", ROUTES)
def test_without_a_login_the_body_is_never_waited_for(system: System, route: str) -> None:
    path = route_path(system, route, "slow-owner")
    status, elapsed_s, sent = trickle(system.gateway_url, path, token=None)
    assert status == 401, path
    # Answered before the deadline could matter: the body was never being read.
    assert sent < BODY_BYTES // 2, (path, elapsed_s)


@pytest.mark.parametrize("route", ROUTES)
def test_signed_in_a_slow_body_gets_408_at_the_deadline(system: System, route: str) -> None:
    path = route_path(system, route, "slow-sender")
    status, elapsed_s, sent = trickle(system.gateway_url, path, system.token("slow-sender"))
    assert status == 408, path
    assert elapsed_s >= DEADLINE_S
    assert sent < BODY_BYTES // 2, (path, elapsed_s)
