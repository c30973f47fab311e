"""`MCP_SERVERS`: the other MCP servers whose tools the agent may use."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from shared.settings.parsers import Parser, Refused
from shared.settings.redaction import Redacted


@dataclass(frozen=True, slots=True, repr=False)
class McpServerSettings(Redacted):
    """One other MCP server whose tools the agent may use."""

    url: str = field(metadata={"url": True})
    """Its streamable HTTP endpoint, e.g. http://127.0.0.1:9000/mcp."""
    headers: tuple[tuple[str, str], ...] = field(default=(), metadata={"headers": True})
    """Sent with every request (e.g. its own Authorization)."""
    name: str = ""
    """Shown in logs and prefixed to its tool names; defaults to the URL's host and port."""


def parse_mcp_servers(raw: str) -> tuple[McpServerSettings, ...]:
    """`MCP_SERVERS` as settings; `ValueError` saying what is wrong."""
    text = raw.strip()
    if not text.startswith(("[", "{")):
        entries: list[object] = [url.strip() for url in text.split(",") if url.strip()]
    else:
        try:
            parsed = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"is not valid JSON ({exc})") from exc
        entries = parsed if isinstance(parsed, list) else [parsed]
    return tuple(_mcp_server(entry, index) for index, entry in enumerate(entries))


def _mcp_server(entry: object, index: int) -> McpServerSettings:
    where = f"entry {index + 1}"
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict):
        raise ValueError(f"{where} must be a URL or an object with a url")
    url, headers, name = entry.get("url"), entry.get("headers", {}), entry.get("name")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ValueError(f"{where} needs a url starting with http:// or https://")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError(f"{where}: headers must be an object of strings")
    unknown = set(entry) - {"url", "headers", "name"}
    if unknown:
        raise ValueError(f"{where} has unknown fields: {', '.join(sorted(unknown))}")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError(f"{where}: name must be a non-empty string")
    # Host and port only: user-info in the URL (a password) must not name tools or log lines.
    default_name = url.split("://", 1)[1].split("/", 1)[0].rpartition("@")[2]
    return McpServerSettings(url=url, headers=tuple(headers.items()), name=name or default_name)


class McpServers(Parser[tuple[McpServerSettings, ...]]):
    what = "a JSON list of MCP servers or comma-separated URLs"

    def __call__(self, raw: str) -> tuple[McpServerSettings, ...]:
        try:
            return parse_mcp_servers(raw)
        except ValueError as exc:
            raise Refused(str(exc), show_value=False) from exc
