"""An MCP server whose tools are the task catalog, run for the user of the request's token.

`tools/list` shows the seven tools with the catalog's argument and result schemas; `tools/call`
validates the arguments and runs the operation. Tool failures (bad arguments, a task that is not
the caller's) are error *results* (`isError: true`) with a readable text, so a client's model can
correct itself; an unknown tool name too.
"""

from __future__ import annotations

import json
from typing import Any, Final

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from shared.db.pool import DbPool
from shared.errors import TaskChatError, UnauthorizedError
from shared.tasks.operations.catalog import BY_NAME, CATALOG, TaskOperation
from shared.tasks.repository import TaskRepository

USER_SCOPE_KEY: Final = "taskchat.user_id"
"""Where the mount puts the authenticated user in the ASGI scope (see `endpoint.py`)."""

SERVER_NAME: Final = "taskchat"
INSTRUCTIONS: Final = (
    "Manage the signed-in user's to-do list: create, list, update, complete and delete tasks."
)


def _tool(operation: TaskOperation[Any]) -> types.Tool:
    return types.Tool(
        name=operation.name,
        description=operation.description,
        input_schema=operation.schema,
        output_schema=operation.result.model_json_schema(),
        annotations=types.ToolAnnotations(
            read_only_hint=operation.read_only,
            destructive_hint=operation.name.startswith(("delete", "bulk_delete")),
            open_world_hint=False,
        ),
    )


def _error(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)], is_error=True)


def _user_of(ctx: ServerRequestContext[Any, Any]) -> str:
    request = ctx.request
    scope = getattr(request, "scope", None)
    user_id = scope.get(USER_SCOPE_KEY) if isinstance(scope, dict) else None
    if not isinstance(user_id, str):
        # The mount refuses unauthenticated requests before they get here; never guess a user.
        raise UnauthorizedError("The request carries no authenticated user.")
    return user_id


def build_mcp_server(pool: DbPool) -> Server[Any]:
    """The low-level MCP server over the catalog; tasks are read and written through `pool`."""
    tasks = TaskRepository(pool)
    tools = [_tool(operation) for operation in CATALOG]

    async def list_tools(
        ctx: ServerRequestContext[Any, Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(
        ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        operation = BY_NAME.get(params.name)
        if operation is None:
            return _error(f"Unknown tool {params.name!r}; the tools are {', '.join(BY_NAME)}.")
        try:
            outcome = await operation.run(tasks, _user_of(ctx), params.arguments)
        except TaskChatError as exc:
            return _error(exc.detail)
        data = outcome.to_json()
        return types.CallToolResult(
            content=[types.TextContent(text=json.dumps(data))], structured_content=data
        )

    return Server(
        SERVER_NAME,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
