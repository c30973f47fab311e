"""The gateway's adapters, built once per process in the lifespan and handed out by DI."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from arq.connections import ArqRedis
from arq.connections import RedisSettings as ArqRedisSettings
from arq.connections import create_pool as arq_pool

from services.gateway.attachments.attachment_store import GatewayAttachmentStore
from services.gateway.attachments.thread_cleanup import AttachmentCleaningStore
from services.gateway.chatkit_server import GatewayChatKitServer
from services.gateway.transcription.transcriber import Transcriber
from services.gateway.turn_events import TurnEventNotifier
from shared.attachments.blob_store import BlobStore, build_blob_store
from shared.db.migrations import apply_migrations
from shared.db.pool import DbPool, create_pool
from shared.observability.tracing import TurnTracing, build_tracing
from shared.settings import Settings
from shared.store.postgres_store import PostgresStore
from shared.tasks.repository import TaskRepository
from shared.turns.event_log import TurnEventLog
from shared.turns.keys import TURN_QUEUE
from shared.turns.queue import TurnQueue


@dataclass(frozen=True, slots=True)
class GatewayResources:
    settings: Settings
    pool: DbPool
    redis: ArqRedis
    store: PostgresStore
    blobs: BlobStore
    chatkit: GatewayChatKitServer
    turns: TurnQueue
    events: TurnEventLog
    notifier: TurnEventNotifier
    tracing: TurnTracing


@asynccontextmanager
async def open_resources(settings: Settings) -> AsyncIterator[GatewayResources]:
    """Connect to Postgres (migrating it) and Redis, and listen for turn events; undo on exit."""
    pool = await create_pool(settings.database)
    try:
        await apply_migrations(pool)
        redis = await arq_pool(
            ArqRedisSettings.from_dsn(settings.redis.url), default_queue_name=TURN_QUEUE
        )
        transcriber = Transcriber(settings.transcription, settings.gemini)
        tracing = build_tracing(settings.observability, "taskchat-gateway")
        notifier = TurnEventNotifier(redis)
        listening = asyncio.create_task(notifier.run())
        try:
            blobs = build_blob_store(settings.attachments, pool)
            # Thread deletion also removes attachment bytes (see attachments/thread_cleanup.py).
            store: PostgresStore = AttachmentCleaningStore(pool, blobs)
            yield GatewayResources(
                settings=settings,
                pool=pool,
                redis=redis,
                store=store,
                blobs=blobs,
                chatkit=GatewayChatKitServer(
                    store,
                    TaskRepository(pool),
                    GatewayAttachmentStore(settings.attachments, blobs),
                    transcriber,
                ),
                turns=TurnQueue(redis, turn_timeout_s=settings.worker.turn_timeout_s),
                events=TurnEventLog(redis),
                notifier=notifier,
                tracing=tracing,
            )
        finally:
            tracing.shutdown()
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening
            await transcriber.close()
            await redis.aclose()
    finally:
        await pool.close()
