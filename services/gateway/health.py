"""`GET /healthz`: ready when Postgres and Redis answer."""

from __future__ import annotations

from litestar import Response, get

from services.gateway.resources import GatewayResources


@get("/healthz")
async def healthz(resources: GatewayResources) -> Response[dict[str, str]]:
    try:
        await resources.pool.fetchval("SELECT 1")
        await resources.redis.ping()
    except Exception as exc:  # any failure means "not ready", which is what probes need
        return Response({"status": "unavailable", "detail": str(exc)}, status_code=503)
    return Response({"status": "ok"})
