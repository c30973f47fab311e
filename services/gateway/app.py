"""The gateway's app factory: nothing connects or reads the environment at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide

from services.gateway.attachments.routes import attachment_routes
from services.gateway.auth.identity import provide_request_context
from services.gateway.chatkit_endpoint import chatkit_endpoint
from services.gateway.errors import EXCEPTION_HANDLERS
from services.gateway.health import healthz
from services.gateway.resources import GatewayResources, open_resources
from shared.settings import Settings


def chatkit_body_limit(settings: Settings) -> int:
    """The ChatKit body limit, raised when dictation is on so that a clip up to
    `TRANSCRIPTION_MAX_BYTES` fits once base64-encoded (a third larger) in its JSON request."""
    limit = settings.gateway.max_body_bytes
    if settings.transcription.enabled:
        limit = max(limit, settings.transcription.max_bytes * 4 // 3 + 64 * 1024)
    return limit


def create_app(settings: Settings) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_resources(settings) as resources:
            app.state.resources = resources
            yield

    def provide_resources(state: State) -> GatewayResources:
        resources: GatewayResources = state.resources
        return resources

    cors = (
        CORSConfig(
            allow_origins=list(settings.gateway.allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["X-Turn-Id", "Retry-After"],
        )
        if settings.gateway.allowed_origins
        else None
    )
    return Litestar(
        route_handlers=[
            chatkit_endpoint,
            healthz,
            *attachment_routes(settings.attachments.max_bytes),
        ],
        lifespan=[lifespan],
        dependencies={
            "resources": Provide(provide_resources, sync_to_thread=False),
            "request_context": Provide(provide_request_context),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        cors_config=cors,
        request_max_body_size=chatkit_body_limit(settings),
        openapi_config=None,
    )
