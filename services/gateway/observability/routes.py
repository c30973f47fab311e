"""`GET /metrics`: the gateway's metrics in Prometheus text format."""

from __future__ import annotations

import logging

from litestar import Response, get
from litestar.di import NamedDependency
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from services.gateway.observability.connections import refresh_own_pool, refresh_workers
from services.gateway.observability.metrics import (
    LIVE_WORKERS,
    QUEUE_DEPTH,
    TURNS_RUNNING,
    WORKER_CAPACITY,
)
from services.gateway.resources import GatewayResources
from shared.workers.registry import WorkerRegistry

logger = logging.getLogger(__name__)


async def refresh_cluster_gauges(resources: GatewayResources) -> None:
    """Read the queue depth and the live workers' load: three Redis calls per scrape, none per
    request. Every gateway reports the same cluster-wide figures (aggregate them with `max`)."""
    registry = WorkerRegistry(resources.redis, resources.settings.worker.liveness_ttl_s)
    QUEUE_DEPTH.set(await resources.turns.depth())
    workers = await registry.live()
    LIVE_WORKERS.set(len(workers))
    TURNS_RUNNING.set(sum(w.running_turns for w in workers))
    WORKER_CAPACITY.set(sum(w.max_turns for w in workers))
    refresh_workers(workers)


@get("/metrics")
async def metrics(resources: NamedDependency[GatewayResources]) -> Response[bytes]:
    refresh_own_pool(resources.pool)
    try:
        await refresh_cluster_gauges(resources)
    except Exception as exc:  # still serve this process's own metrics while Redis is away
        logger.warning("metrics: cluster gauges not refreshed: %s", exc)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
