"""Other MCP servers (`MCP_SERVERS`) whose tools the agent may use next to the seven task tools.

Each is connected once per worker, at start-up, with `MCP_SERVER_TIMEOUT_S` as the bound on the
connection and on each request. One that cannot be reached (or cannot list its tools) is logged
with the reason and left out: the worker starts anyway and the built-in tools always work. Their
tools are listed once and cached, so a turn never waits on another server just to start; a server
that goes away later makes only its own tool calls fail, as text the model reads.

The Agents SDK's `MCPServerManager` connects and cleans up each server on a task of its own:
MCP's client must be closed on the task that opened it, and arq starts and stops a worker from
different tasks.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from agents.mcp import MCPServer, MCPServerManager, MCPServerStreamableHttp

from shared.settings import McpClientSettings, McpServerSettings, redact_url

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class McpServers:
    """The connected servers, for `Agent(mcp_servers=...)`; `close()` disconnects them."""

    manager: MCPServerManager | None
    active: list[MCPServer]

    async def close(self) -> None:
        if self.manager is not None:
            await self.manager.__aexit__(None, None, None)


def _server(config: McpServerSettings, timeout_s: float) -> MCPServerStreamableHttp:
    return MCPServerStreamableHttp(
        params={
            "url": config.url,
            "headers": dict(config.headers),
            "timeout": timeout_s,
            "sse_read_timeout": timeout_s,
        },
        name=config.name,
        cache_tools_list=True,
        client_session_timeout_seconds=timeout_s,
    )


async def connect_mcp_servers(settings: McpClientSettings) -> McpServers:
    """Connect to every configured server that answers within the timeout."""
    if not settings.servers:
        return McpServers(manager=None, active=[])
    servers = [_server(config, settings.timeout_s) for config in settings.servers]
    # For log lines: a password in a URL's user-info must not reach the logs.
    urls = {
        server.name: redact_url(config.url)
        for server, config in zip(servers, settings.servers, strict=True)
    }
    manager = MCPServerManager(
        servers,
        connect_timeout_seconds=settings.timeout_s,
        cleanup_timeout_seconds=settings.timeout_s,
        connect_in_parallel=True,
    )
    await manager.__aenter__()
    for server, error in manager.errors.items():
        logger.error(
            "MCP server %r at %s is unreachable, its tools are left out: %s",
            server.name,
            urls.get(server.name, "?"),
            _reason(error),
        )
    active: list[MCPServer] = []
    for server in manager.active_servers:
        try:
            # Listed (and cached) now, so a turn never waits on it to start.
            tools = await asyncio.wait_for(server.list_tools(), settings.timeout_s)
        except Exception as exc:
            logger.error(
                "MCP server %r at %s did not list its tools, they are left out: %s",
                server.name,
                urls.get(server.name, "?"),
                _reason(exc),
            )
            continue
        logger.info(
            "MCP server %r at %s: tools %s",
            server.name,
            urls.get(server.name, "?"),
            ", ".join(tool.name for tool in tools) or "(none)",
        )
        active.append(server)
    return McpServers(manager=manager, active=active)


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return "no answer within the timeout (MCP_SERVER_TIMEOUT_S)"
    # anyio wraps connection failures in exception groups; the innermost says what happened.
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
