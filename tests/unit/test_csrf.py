"""Cross-site checks on cookie-authenticated requests."""

from __future__ import annotations

import pytest

from services.gateway.auth.csrf import check_cookie_request, origin_of
from shared.errors import ForbiddenError

ALLOWED = ("https://chat.example.com", "http://localhost:3000")


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://chat.example.com/page?x=1", "https://chat.example.com"),
        ("https://CHAT.example.com:443/", "https://chat.example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("null", None),
        ("javascript:alert(1)", None),
        ("https://[bad", None),
    ],
)
def test_origin_of(url: str, origin: str | None) -> None:
    assert origin_of(url) == origin


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://chat.example.com"},
        {"origin": "https://chat.example.com", "sec-fetch-site": "same-site"},
        {"referer": "http://localhost:3000/app/chat"},
    ],
)
def test_allowed_origins_pass(headers: dict[str, str]) -> None:
    check_cookie_request("POST", headers, ALLOWED)


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "https://chat.example.com.evil.example"},
        {"origin": "null"},
        {"referer": "https://evil.example/chat.example.com"},
        {"origin": "https://chat.example.com", "sec-fetch-site": "cross-site"},
        {},
    ],
)
def test_other_origins_are_forbidden(headers: dict[str, str]) -> None:
    with pytest.raises(ForbiddenError):
        check_cookie_request("POST", headers, ALLOWED)


def test_safe_methods_are_not_checked() -> None:
    check_cookie_request("GET", {"origin": "https://evil.example"}, ALLOWED)


def test_nothing_is_allowed_without_allowed_origins() -> None:
    with pytest.raises(ForbiddenError):
        check_cookie_request("POST", {"origin": "https://chat.example.com"}, ())
