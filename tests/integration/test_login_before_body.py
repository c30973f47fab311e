"""Authentication runs before any body is read, on every route but the public ones (issue 17.2).

In-process, on real Postgres and Redis: the guard covers every route the app serves, and an
unauthenticated request is answered 401 whatever its body, where today's `/api/tasks` parsed
(and waited for) the body first and answered its problems instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from services.gateway.app import create_app
from services.gateway.auth.login_guard import require_login
from services.gateway.auth.tokens import issue_token
from shared.db.pool import DbPool
from shared.settings import Settings

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*Inferred dependency field:litestar.exceptions.LitestarDeprecationWarning"
)

# The dev page and its browser modules are public: they hold no data and ask for a token.
PUBLIC_PATHS = {"/", "/healthz", "/readyz", "/metrics", "/dev/static/{file_path:path}"}


@pytest.fixture
def app(base_env: dict[str, str]) -> Litestar:
    return create_app(Settings.from_env({**base_env, "TRANSCRIPTION_ENABLED": "true"}))


@pytest.fixture
async def client(
    app: Litestar, db_pool: DbPool, redis_client: Any
) -> AsyncIterator[AsyncTestClient[Any]]:
    async with AsyncTestClient(app=app) as test_client:
        yield test_client


def test_every_route_but_the_public_ones_runs_the_login_guard(app: Litestar) -> None:
    unguarded = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", [getattr(route, "route_handler", None)]):
            if handler is None or route.path.startswith("/schema"):
                continue
            guarded = require_login in handler.resolve_guards()
            public = bool(handler.opt.get("public"))
            if not guarded or (public and route.path not in PUBLIC_PATHS):
                unguarded.add(route.path)
    assert unguarded == set()
    assert {"/chatkit", "/api/tasks", "/mcp", "/chatkit/transcribe"} <= {r.path for r in app.routes}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/tasks"),
        ("PATCH", "/api/tasks/1"),
        ("PUT", "/api/tasks/1"),
        ("POST", "/chatkit"),
        ("POST", "/chatkit/transcribe"),
        ("POST", "/attachments/atc_1/upload"),
        ("POST", "/mcp"),
    ],
)
async def test_without_a_login_the_body_does_not_matter(
    client: AsyncTestClient[Any], method: str, path: str
) -> None:
    for body in (b"{not json", b'{"title": ""}', b"x" * 10):
        response = await client.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 401, (path, body, response.text)


async def test_the_public_routes_and_the_schema_need_no_login(client: AsyncTestClient[Any]) -> None:
    for path in ("/healthz", "/schema/openapi.json"):
        assert (await client.get(path)).status_code == 200, path


async def test_a_signed_in_request_still_gets_its_body_checked(
    client: AsyncTestClient[Any], base_env: dict[str, str]
) -> None:
    token = issue_token(base_env["JWT_SECRET"], "alice")
    response = await client.post(
        "/api/tasks", json={"title": ""}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422
