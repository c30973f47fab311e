"""Body limits per route: dictation's larger limit is on its own path only (issue 17.5)."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.routes import HTTPRoute

from services.gateway.app import create_app
from shared.settings import Settings

BASE = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1/taskchat",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "GEMINI_API_KEY": "k",
    "JWT_SECRET": "unit-test-secret-that-is-32-bytes-long",
}
MIB = 1024 * 1024

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Inferred dependency field:litestar.exceptions.LitestarDeprecationWarning"
)


def body_limit(app: Litestar, path: str) -> int | None:
    route = next(r for r in app.routes if r.path == path and isinstance(r, HTTPRoute))
    handler = next(h for h in route.route_handlers if isinstance(h, HTTPRouteHandler))
    return handler.resolve_request_max_body_size()


def test_dictation_raises_the_limit_of_its_own_path_only() -> None:
    app = create_app(Settings.from_env({**BASE, "TRANSCRIPTION_ENABLED": "true"}))
    assert body_limit(app, "/chatkit/transcribe") == 5 * MIB * 4 // 3 + 64 * 1024
    for path in ("/chatkit", "/api/chatkit", "/api/tasks", "/api/tasks/{task_id:int}"):
        assert body_limit(app, path) == MIB, path


def test_without_dictation_chatkit_keeps_its_limit() -> None:
    assert body_limit(create_app(Settings.from_env(BASE)), "/chatkit") == MIB
