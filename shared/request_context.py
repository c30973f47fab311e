"""Who a ChatKit request acts for: the `TContext` of chatkit's `Store` and `ChatKitServer`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RequestContext:
    user_id: str
    """The authenticated user (the JWT's `sub`); every query is scoped to it."""
    turn_id: str | None = None
    """Set on workers: the turn being run (for accounting and logs)."""
