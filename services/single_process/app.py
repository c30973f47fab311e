"""`POST /chatkit` answered in-process by the agent's ChatKit server, with the gateway's auth."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from chatkit.server import StreamingResult
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State
from litestar.response import Stream

from services.agent.runtime import WorkerRuntime, open_runtime
from services.gateway.auth.identity import token_from_request
from services.gateway.errors import EXCEPTION_HANDLERS
from services.gateway.resources import build_verifier
from services.gateway.turns.error_events import SSE_HEADERS
from shared.gc_freeze import freeze_startup_objects
from shared.redis_connection import connect_redis
from shared.request_context import RequestContext
from shared.settings import Settings


def create_single_process_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as opened:
            redis = await connect_redis(settings.redis)
            opened.push_async_callback(redis.aclose)
            http = httpx.AsyncClient()  # for a JWKS, when tokens are verified with one
            opened.push_async_callback(http.aclose)
            app.state.runtime = await opened.enter_async_context(open_runtime(settings, redis))
            app.state.verifier = build_verifier(settings.auth, http)
            freeze_startup_objects()
            yield

    @post("/chatkit", status_code=200)
    async def chatkit(request: Request[object, object, State]) -> Response[bytes] | Stream:
        runtime: WorkerRuntime = request.app.state.runtime
        token, _ = token_from_request(request, settings.auth.cookie_name)
        context = RequestContext(user_id=await request.app.state.verifier.verify(token))
        result = await runtime.server.process(await request.body(), context)
        if isinstance(result, StreamingResult):
            return Stream(result, media_type="text/event-stream", headers=SSE_HEADERS)
        return Response(content=result.json, media_type="application/json")

    @get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return Litestar(
        route_handlers=[chatkit, healthz],
        lifespan=[lifespan],
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.gateway.max_body_bytes,
        openapi_config=None,
    )
