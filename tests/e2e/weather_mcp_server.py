"""A tiny MCP server for tests: one `forecast(city)` tool over streamable HTTP, behind an API key.

`python -m tests.e2e.weather_mcp_server --port N --api-key K` serves it at
http://127.0.0.1:N/mcp; requests without `X-Api-Key: K` get a 401.
"""

from __future__ import annotations

import argparse
import json

import uvicorn
from mcp.server.mcpserver import MCPServer
from starlette.types import ASGIApp, Receive, Scope, Send


def forecast(city: str) -> str:
    """Tomorrow's weather in a city."""
    return f"Sunny in {city} tomorrow, 21 degrees."


def require_api_key(app: ASGIApp, api_key: str) -> ASGIApp:
    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and dict(scope["headers"]).get(b"x-api-key") != api_key.encode():
            body = json.dumps({"error": "missing or wrong X-Api-Key"}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return guarded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", required=True)
    args = parser.parse_args()
    server = MCPServer("weather")
    server.tool()(forecast)
    app = server.streamable_http_app(stateless_http=True, json_response=True)
    uvicorn.run(require_api_key(app, args.api_key), host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
