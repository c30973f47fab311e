"""What a worker process holds while it runs: built in arq's on_startup, closed on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from agents import Agent, ModelSettings, set_tracing_disabled
from redis.asyncio import Redis

from services.agent.agent_context import TaskAgentContext
from services.agent.cancel_listener import listen_for_cancels
from services.agent.chatkit_server import AgentChatKitServer
from services.agent.instructions import dated_instructions, load_system_prompt
from services.agent.liveness import WorkerHeartbeat
from services.agent.mcp_servers import McpServers, connect_mcp_servers
from services.agent.model import GeminiModels, warn_about_retiring_models
from services.agent.observability.health_server import WorkerHealthServer
from services.agent.running_turns import RunningTurns
from services.agent.tools.task_tools import task_tools
from services.agent.turn_runner import TurnRunner
from services.agent.turn_sweeper import sweep_forever
from shared.attachments.blob_store import build_blob_store
from shared.background import running
from shared.db.pool import DbPool, create_pool
from shared.db.startup import migrate
from shared.observability.tracing import TurnTracing, build_tracing
from shared.settings import Settings
from shared.store.turn_store import TurnStore
from shared.tasks.repository import TaskRepository
from shared.turns.records import TurnRecords
from shared.usage.repository import UsageRepository
from shared.workers.registry import WorkerRegistry, new_worker_id


@dataclass(frozen=True, slots=True)
class WorkerRuntime:
    pool: DbPool
    server: AgentChatKitServer
    runner: TurnRunner
    heartbeat: WorkerHeartbeat
    """Stopped at SIGTERM, before the rest, so gateways stop counting on this worker at once."""
    tracing: TurnTracing


async def _stopped(heartbeat: WorkerHeartbeat) -> None:
    heartbeat.stop()
    await asyncio.to_thread(heartbeat.join, 5.0)


def build_agent(
    settings: Settings, models: GeminiModels, mcp_servers: McpServers | None = None
) -> Agent[TaskAgentContext]:
    return Agent[TaskAgentContext](
        name="TaskChat",
        instructions=dated_instructions(load_system_prompt(settings.agent.system_prompt_file)),
        tools=[*task_tools()],
        mcp_servers=list(mcp_servers.active) if mcp_servers else [],
        # Prefixed with the server's name, so another server's tool can never shadow (or be
        # mistaken for) one of the built-in task tools.
        mcp_config={"include_server_in_tool_names": True},
        model=models.get(),
        model_settings=ModelSettings(
            temperature=settings.gemini.temperature,
            max_tokens=settings.gemini.max_output_tokens,
        ),
    )


@asynccontextmanager
async def open_runtime(settings: Settings, redis: Redis) -> AsyncIterator[WorkerRuntime]:
    """The worker's bootstrap: connect to Postgres (migrating it) and the MCP servers, build the
    agent, start the background tasks (cancel listener, heartbeat, sweeper, health server); on
    exit, close what was opened, in reverse order."""
    # The SDK would otherwise try to export traces to OpenAI; we never send data there.
    set_tracing_disabled(True)
    warn_about_retiring_models(settings.gemini, dt.date.today())
    async with contextlib.AsyncExitStack() as opened:
        tracing = build_tracing(settings.observability, "taskchat-worker")
        opened.callback(tracing.shutdown)
        pool = await create_pool(settings.database)
        opened.push_async_callback(pool.close)
        await migrate(settings.database, pool)
        mcp_servers = await connect_mcp_servers(settings.mcp)
        opened.push_async_callback(mcp_servers.close)
        models = GeminiModels(settings.gemini, redis)
        opened.push_async_callback(models.close)
        server = AgentChatKitServer(
            TurnStore(pool, newest_items=settings.agent.history_items),
            TaskRepository(pool),
            UsageRepository(pool),
            build_agent(settings, models, mcp_servers),
            models,
            build_blob_store(settings.attachments, pool),
            settings.agent,
            max_inline_bytes=settings.attachments.max_inline_bytes,
        )
        running_turns = RunningTurns()
        records = TurnRecords(pool)
        worker = settings.worker
        worker_id = new_worker_id()
        runner = TurnRunner(
            server,
            redis,
            running_turns,
            records,
            worker_id=worker_id,
            turn_timeout_s=worker.turn_timeout_s,
            heartbeat_interval_s=worker.heartbeat_interval_s,
            coalesce_s=worker.stream_coalesce_ms / 1000,
        )
        listener = await opened.enter_async_context(
            running(listen_for_cancels(redis, running_turns), "cancel-listener")
        )
        heartbeat = WorkerHeartbeat(
            settings.redis.url,
            worker_id,
            running_turns,
            registry_ttl_s=worker.liveness_ttl_s,
            max_turns=worker.max_concurrent_turns,
            interval_s=worker.heartbeat_interval_s,
            slot_lease_s=settings.limits.stream_lease_s,
            pool=pool,
        )
        heartbeat.start()
        opened.push_async_callback(_stopped, heartbeat)
        await opened.enter_async_context(
            running(
                sweep_forever(
                    redis,
                    records,
                    WorkerRegistry(redis, worker.liveness_ttl_s),
                    silence_limit_s=worker.liveness_ttl_s,
                    busy_limit_s=worker.turn_timeout_s,
                ),
                "turn-sweeper",
            )
        )
        observability = settings.observability
        if observability.worker_health_port:
            # Alive until the worker closes. Not tied to the registry heartbeat: that one stops at
            # SIGTERM, and a draining worker must not look dead to its liveness probe.
            health = WorkerHealthServer(worker_id, lambda: not listener.done())
            await health.start(observability.worker_health_host, observability.worker_health_port)
            opened.push_async_callback(health.close)
        yield WorkerRuntime(
            pool=pool, server=server, runner=runner, heartbeat=heartbeat, tracing=tracing
        )
