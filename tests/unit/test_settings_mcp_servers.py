"""`MCP_SERVERS` and `MCP_SERVER_TIMEOUT_S`: a JSON list or plain URLs, every mistake named."""

from __future__ import annotations

import json

import pytest

from shared.settings import McpServerSettings, Settings, SettingsError

BASE = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1/taskchat",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GEMINI_API_KEY": "k",
    "JWT_SECRET": "unit-test-secret-that-is-32-bytes-long",
}


def test_no_servers_by_default() -> None:
    settings = Settings.from_env(BASE)
    assert settings.mcp.servers == ()
    assert settings.mcp.timeout_s == 10.0


def test_json_list_with_headers_and_names() -> None:
    raw = json.dumps(
        [
            {"url": "https://tools.example/mcp", "headers": {"Authorization": "Bearer x"}},
            {"url": "http://127.0.0.1:9000/mcp", "name": "local"},
        ]
    )
    settings = Settings.from_env({**BASE, "MCP_SERVERS": raw, "MCP_SERVER_TIMEOUT_S": "2.5"})
    assert settings.mcp.servers == (
        McpServerSettings(
            url="https://tools.example/mcp",
            headers=(("Authorization", "Bearer x"),),
            name="tools.example",
        ),
        McpServerSettings(url="http://127.0.0.1:9000/mcp", name="local"),
    )
    assert settings.mcp.timeout_s == 2.5


def test_one_json_object() -> None:
    settings = Settings.from_env({**BASE, "MCP_SERVERS": '{"url": "http://a:1/mcp"}'})
    assert settings.mcp.servers == (McpServerSettings(url="http://a:1/mcp", name="a:1"),)


def test_comma_separated_urls() -> None:
    settings = Settings.from_env({**BASE, "MCP_SERVERS": "http://a:1/mcp, http://b:2/mcp"})
    assert [s.url for s in settings.mcp.servers] == ["http://a:1/mcp", "http://b:2/mcp"]
    assert [s.name for s in settings.mcp.servers] == ["a:1", "b:2"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("[{", "MCP_SERVERS is not valid JSON"),
        ('{"url": 5}', "MCP_SERVERS entry 1 needs a url"),
        ('[{"url": "ftp://a/mcp"}]', "entry 1 needs a url starting with http://"),
        ('["http://a/mcp", {"url": "http://b/mcp", "headers": {"X": 1}}]', "entry 2: headers"),
        ('[{"url": "http://a/mcp", "header": {}}]', "unknown fields: header"),
        ("a-host:9000", "entry 1 needs a url"),
    ],
)
def test_mistakes_are_named(raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({**BASE, "MCP_SERVERS": raw, "MCP_SERVER_TIMEOUT_S": "0"})
    text = str(caught.value)
    assert message in text
    assert "MCP_SERVER_TIMEOUT_S='0' is not a positive number of seconds" in text
