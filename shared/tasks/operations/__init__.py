"""The seven task tools, defined once: name, the description the model reads, the argument and
result schemas, and a handler over the task repository.

The agent worker (Agents SDK function tools), the gateway's MCP server and its REST API are thin
adapters over `CATALOG`, so the three can never drift apart.
"""
