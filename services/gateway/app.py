"""The gateway's app factory: nothing connects or reads the environment at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from services.gateway.attachments.routes import attachment_routes
from services.gateway.auth.identity import provide_request_context
from services.gateway.auth.login_guard import PUBLIC, require_login
from services.gateway.body_deadline import BodyReadDeadline
from services.gateway.chatkit_endpoint import chatkit_endpoint
from services.gateway.dev_page.page import dev_page, dev_static_files
from services.gateway.draining import DrainState
from services.gateway.errors import EXCEPTION_HANDLERS
from services.gateway.health import healthz, readyz
from services.gateway.mcp.endpoint import STATE_KEY as MCP_STATE_KEY
from services.gateway.mcp.endpoint import mcp_endpoint, open_mcp
from services.gateway.observability.request_metrics import RequestMetricsMiddleware
from services.gateway.observability.routes import metrics
from services.gateway.resources import GatewayResources, open_resources
from services.gateway.tasks.routes import TaskController
from services.gateway.transcription.route import transcription_route
from services.gateway.turns.resume import turn_events_endpoint
from services.gateway.turns.stop_route import stop_turn
from shared.gc_freeze import freeze_startup_objects
from shared.settings import Settings


def create_app(settings: Settings, draining: DrainState | None = None) -> Litestar:
    """The gateway app. `draining` is set by the server when a shutdown signal arrives."""
    drain_state = draining or DrainState()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with (
            open_resources(settings, drain_state) as resources,
            open_mcp(resources, settings.gateway.max_body_bytes) as mcp_sessions,
        ):
            app.state.resources = resources
            app.state[MCP_STATE_KEY] = mcp_sessions
            freeze_startup_objects()
            yield

    def provide_resources(state: State) -> GatewayResources:
        resources: GatewayResources = state.resources
        return resources

    cors = (
        CORSConfig(
            allow_origins=list(settings.gateway.allowed_origins),
            allow_credentials=True,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            expose_headers=["X-Turn-Id", "Retry-After"],
        )
        if settings.gateway.allowed_origins
        else None
    )
    return Litestar(
        route_handlers=[
            chatkit_endpoint,
            turn_events_endpoint,
            stop_turn,
            # Anyone may call these; every other route runs `require_login` before its body.
            Router(
                "/",
                route_handlers=[healthz, readyz, metrics, dev_page, dev_static_files()],
                opt=PUBLIC,
            ),
            *attachment_routes(settings.attachments.max_bytes),
            transcription_route(settings),
            TaskController,
            mcp_endpoint,
        ],
        guards=[require_login],
        lifespan=[lifespan],
        dependencies={
            "resources": Provide(provide_resources, sync_to_thread=False),
            "request_context": Provide(provide_request_context),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[
            RequestMetricsMiddleware(),
            DefineMiddleware(BodyReadDeadline, timeout_s=settings.limits.body_read_timeout_s),
        ],
        cors_config=cors,
        # Dictation and uploads raise it on their own routes only.
        request_max_body_size=settings.gateway.max_body_bytes,
        openapi_config=openapi_config(),
        # Logging is configured once per process (shared/observability/logging_setup.py);
        # Litestar's default would replace the root handler with its own format.
        logging_config=None,
    )


def openapi_config() -> OpenAPIConfig:
    """The schema Litestar serves at `/schema/openapi.json` (and a browsable UI under `/schema`)."""
    return OpenAPIConfig(
        title="TaskChat",
        version="0.1.0",
        description="The task panel's REST API (`/api/tasks`) and the ChatKit endpoint.",
        path="/schema",
        openapi_router=Router("/schema", route_handlers=[], opt=PUBLIC),
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="The session token (`taskchat token --user NAME` in development).",
                )
            }
        ),
    )
