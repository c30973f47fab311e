"""What a worker process holds while it runs: built in arq's on_startup, closed on shutdown."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from agents import Agent, ModelSettings, set_tracing_disabled
from redis.asyncio import Redis

from services.agent.agent_context import TaskAgentContext
from services.agent.cancel_listener import listen_for_cancels
from services.agent.chatkit_server import AgentChatKitServer
from services.agent.instructions import dated_instructions, load_system_prompt
from services.agent.liveness import beat_forever
from services.agent.mcp_servers import McpServers, connect_mcp_servers
from services.agent.model import GeminiModels
from services.agent.observability.health_server import WorkerHealthServer
from services.agent.running_turns import RunningTurns
from services.agent.tools.task_tools import task_tools
from services.agent.turn_runner import TurnRunner
from services.agent.turn_sweeper import sweep_forever
from shared.attachments.blob_store import build_blob_store
from shared.db.migrations import apply_migrations
from shared.db.pool import DbPool, create_pool
from shared.observability.tracing import TurnTracing, build_tracing
from shared.settings import Settings
from shared.store.postgres_store import PostgresStore
from shared.tasks.repository import TaskRepository
from shared.turns.records import TurnRecords
from shared.usage.repository import UsageRepository
from shared.workers.registry import WorkerRegistry, new_worker_id


@dataclass(slots=True)
class WorkerRuntime:
    pool: DbPool
    server: AgentChatKitServer
    runner: TurnRunner
    cancel_listener: asyncio.Task[None]
    heartbeat: asyncio.Task[None]
    sweeper: asyncio.Task[None]
    mcp_servers: McpServers
    tracing: TurnTracing
    health: WorkerHealthServer | None = None

    async def close(self) -> None:
        if self.health is not None:
            await self.health.close()
        for task in (self.cancel_listener, self.heartbeat, self.sweeper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.mcp_servers.close()
        await self.server.models.close()
        await self.pool.close()
        self.tracing.shutdown()


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


async def open_runtime(settings: Settings, redis: Redis) -> WorkerRuntime:
    # The SDK would otherwise try to export traces to OpenAI; we never send data there.
    set_tracing_disabled(True)
    pool = await create_pool(settings.database)
    mcp_servers = McpServers(manager=None, active=[])
    try:
        await apply_migrations(pool)
        mcp_servers = await connect_mcp_servers(settings.mcp)
        store = PostgresStore(pool)
        models = GeminiModels(settings.gemini, redis)
        server = AgentChatKitServer(
            store,
            TaskRepository(pool),
            UsageRepository(pool),
            build_agent(settings, models, mcp_servers),
            models,
            build_blob_store(settings.attachments, pool),
            settings.agent,
            max_inline_bytes=settings.attachments.max_inline_bytes,
        )
        running = RunningTurns()
        records = TurnRecords(pool)
        runner = TurnRunner(
            server,
            redis,
            running,
            records,
            turn_timeout_s=settings.worker.turn_timeout_s,
            heartbeat_interval_s=settings.worker.heartbeat_interval_s,
            liveness_ttl_s=settings.worker.liveness_ttl_s,
        )
        listener = asyncio.create_task(listen_for_cancels(redis, running))
        worker_id = new_worker_id()
        heartbeat = asyncio.create_task(
            beat_forever(
                WorkerRegistry(redis, settings.worker.liveness_ttl_s),
                worker_id,
                running,
                max_turns=settings.worker.max_concurrent_turns,
                interval_s=settings.worker.heartbeat_interval_s,
            )
        )
        sweeper = asyncio.create_task(
            sweep_forever(redis, records, silence_limit_s=settings.worker.liveness_ttl_s)
        )
        runtime = WorkerRuntime(
            pool=pool,
            server=server,
            runner=runner,
            cancel_listener=listener,
            heartbeat=heartbeat,
            sweeper=sweeper,
            mcp_servers=mcp_servers,
            tracing=build_tracing(settings.observability, "taskchat-worker"),
        )
        observability = settings.observability
        if observability.worker_health_port:
            # Alive until the worker closes. Not tied to the registry heartbeat: that one stops at
            # SIGTERM, and a draining worker must not look dead to its liveness probe.
            runtime.health = WorkerHealthServer(worker_id, lambda: not listener.done())
            await runtime.health.start(
                observability.worker_health_host, observability.worker_health_port
            )
    except BaseException:
        await mcp_servers.close()
        await pool.close()
        raise
    return runtime
