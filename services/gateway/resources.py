"""The gateway's adapters, built once per process in the lifespan and handed out by DI."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from redis.asyncio import Redis

from services.gateway.attachments.attachment_store import GatewayAttachmentStore
from services.gateway.attachments.thread_cleanup import AttachmentCleaningStore
from services.gateway.attachments.user_allowance import AttachmentAllowance
from services.gateway.auth.jwks import JwksKeys
from services.gateway.auth.verifier import KeySource, TokenVerifier, static_key
from services.gateway.chatkit_server import GatewayChatKitServer
from services.gateway.draining import DrainState
from services.gateway.quotas.anonymous_rate import AnonymousRateLimit
from services.gateway.quotas.daily_messages import DailyMessageQuota
from services.gateway.transcription.transcriber import Transcriber
from services.gateway.turns.admission import TurnAdmission
from services.gateway.turns.notifier import TurnEventNotifier
from services.gateway.turns.stream_slots import StreamLeases
from services.gateway.turns.streams import TurnStreams
from shared.attachments.blob_store import BlobStore, build_blob_store
from shared.background import running
from shared.db.pool import DbPool, create_pool
from shared.db.startup import migrate
from shared.observability.tracing import TurnTracing, build_tracing
from shared.redis_connection import connect_redis
from shared.settings import AuthSettings, Settings
from shared.store.postgres_store import PostgresStore
from shared.tasks.repository import TaskRepository
from shared.turns import keys
from shared.turns.event_log import TurnEventLog
from shared.turns.holds import TurnHolds
from shared.turns.queue import TurnQueue
from shared.turns.records import TurnRecords
from shared.usage.repository import UsageRepository
from shared.workers.registry import WorkerRegistry


@dataclass(frozen=True, slots=True)
class GatewayResources:
    settings: Settings
    pool: DbPool
    redis: Redis
    store: PostgresStore
    blobs: BlobStore
    chatkit: GatewayChatKitServer
    turns: TurnQueue
    admission: TurnAdmission
    streams: TurnStreams
    verifier: TokenVerifier
    anonymous_rate: AnonymousRateLimit
    tracing: TurnTracing


JWKS_TIMEOUT_S = 5.0


def build_verifier(settings: AuthSettings, http: httpx.AsyncClient) -> TokenVerifier:
    """The token verifier for whichever of JWT_SECRET, JWT_PUBLIC_KEY, JWT_JWKS_URL is set."""
    keys: KeySource | None = static_key(settings)
    if keys is None:
        assert settings.jwks_url is not None  # Settings.from_env demands one of the three
        keys = JwksKeys(
            settings.jwks_url,
            http,
            cooldown_s=settings.jwks_refresh_cooldown_s,
            max_age_s=settings.jwks_max_age_s,
        )
    return TokenVerifier(
        keys, audience=settings.audience, issuer=settings.issuer, leeway_s=settings.leeway_s
    )


@asynccontextmanager
async def open_resources(
    settings: Settings, draining: DrainState
) -> AsyncIterator[GatewayResources]:
    """The gateway's bootstrap: connect to Postgres (migrating it) and Redis, start listening for
    turn events, and build the adapters; on exit, close what was opened, in reverse order."""
    async with contextlib.AsyncExitStack() as opened:
        pool = await create_pool(settings.database)
        opened.push_async_callback(pool.close)
        await migrate(settings.database, pool)
        redis = await connect_redis(settings.redis)
        opened.push_async_callback(redis.aclose)
        transcriber = Transcriber(
            settings.transcription,
            settings.gemini,
            DailyMessageQuota(
                redis,
                settings.transcription.daily_quota,
                keys.daily_transcriptions,
                "dictated clips",
            ),
            UsageRepository(pool),
        )
        opened.push_async_callback(transcriber.close)
        jwks_http = httpx.AsyncClient(timeout=JWKS_TIMEOUT_S, follow_redirects=True)
        opened.push_async_callback(jwks_http.aclose)
        tracing = build_tracing(settings.observability, "taskchat-gateway")
        opened.callback(tracing.shutdown)
        notifier = TurnEventNotifier(redis)
        await opened.enter_async_context(running(notifier.run(), "turn-event-notifier"))

        blobs = build_blob_store(settings.attachments, pool)
        # Thread deletion also removes attachment bytes (see attachments/thread_cleanup.py).
        store: PostgresStore = AttachmentCleaningStore(pool, blobs)
        turns = TurnQueue(redis, turn_timeout_s=settings.worker.turn_timeout_s)
        holds = TurnHolds(redis)
        workers = WorkerRegistry(redis, settings.worker.liveness_ttl_s)
        admission = TurnAdmission(
            settings,
            holds,
            workers,
            draining,
            turns,
            notifier.channel,
        )
        yield GatewayResources(
            settings=settings,
            pool=pool,
            redis=redis,
            store=store,
            blobs=blobs,
            chatkit=GatewayChatKitServer(
                store,
                TaskRepository(pool),
                GatewayAttachmentStore(
                    settings.attachments, blobs, AttachmentAllowance(pool, settings.attachments)
                ),
                transcriber,
            ),
            turns=turns,
            admission=admission,
            streams=TurnStreams(
                settings,
                admission,
                turns,
                TurnEventLog(redis),
                notifier,
                holds,
                TurnRecords(pool),
                StreamLeases(
                    redis, settings.limits.concurrent_streams, settings.limits.stream_lease_s
                ),
                draining,
                workers,
            ),
            verifier=build_verifier(settings.auth, jwks_http),
            anonymous_rate=AnonymousRateLimit(redis, settings.limits.anonymous_requests_per_minute),
            tracing=tracing,
        )
