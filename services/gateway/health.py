"""Probes: `GET /healthz` (the process answers) and `GET /readyz` (it can serve turns)."""

from __future__ import annotations

from litestar import Response, get
from litestar.di import NamedDependency

from services.gateway.resources import GatewayResources
from shared.workers.registry import WorkerRegistry


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Liveness: the event loop answers. Deliberately checks nothing else, so an outage of
    Postgres or Redis makes pods unready (readyz) rather than restarted in a loop."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(resources: NamedDependency[GatewayResources]) -> Response[dict[str, object]]:
    """Readiness: Postgres and Redis answer and at least one worker is alive to take turns."""
    checks: dict[str, str] = {"postgres": "ok", "redis": "ok", "workers": "unknown"}
    live = 0
    try:
        await resources.pool.fetchval("SELECT 1")
    except Exception as exc:  # any failure means "not ready", which is what probes need
        checks["postgres"] = f"unavailable: {exc}"
    try:
        await resources.redis.ping()
        registry = WorkerRegistry(resources.redis, resources.settings.worker.liveness_ttl_s)
        live = await registry.live_count()
        checks["workers"] = f"{live} live"
    except Exception as exc:
        checks["redis"] = f"unavailable: {exc}"
    ready = checks["postgres"] == "ok" and checks["redis"] == "ok" and live > 0
    body: dict[str, object] = {"status": "ok" if ready else "unavailable", "checks": checks}
    return Response(body, status_code=200 if ready else 503)
