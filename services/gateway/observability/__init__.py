"""The gateway's metrics, its request metrics middleware and its health and metrics routes."""
