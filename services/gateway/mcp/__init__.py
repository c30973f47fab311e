"""The MCP door to the task tools: `/mcp`, MCP's streamable HTTP transport, Bearer JWT auth."""
