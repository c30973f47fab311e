"""One ChatKit client for the CLI (`taskchat chat`), the tests and the load engine: the request
bodies, the SSE parsing and a synchronous client that reads a turn's stream to its end."""
