"""chatkit's server logic, run by a worker for one streaming request at a time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import openai
from agents import Agent, RunConfig, Runner
from chatkit.agents import stream_agent_response
from chatkit.server import ChatKitServer
from chatkit.types import ThreadMetadata, ThreadStreamEvent, UserMessageItem

from services.agent.agent_context import TaskAgentContext
from services.agent.history import HistoryConverter
from services.agent.item_ids import with_unique_item_ids
from services.agent.model_errors import model_error_to_stream_error
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore
from shared.tasks.repository import TaskRepository

logger = logging.getLogger(__name__)

HISTORY_ITEMS = 50
"""Newest thread items sent to the model each turn: a long thread costs the same as a short one."""
MAX_TOOL_ROUNDS = 10


class AgentChatKitServer(ChatKitServer[RequestContext]):
    def __init__(
        self,
        store: PostgresStore,
        tasks: TaskRepository,
        agent: Agent[TaskAgentContext],
    ) -> None:
        super().__init__(store)
        self.postgres = store
        self.tasks = tasks
        self.agent = agent
        self.converter = HistoryConverter()
        self.run_config = RunConfig(tracing_disabled=True)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        agent_context = TaskAgentContext(
            thread=thread, store=self.store, request_context=context, tasks=self.tasks
        )
        history = await self.postgres.load_recent_items(thread.id, HISTORY_ITEMS, context)
        result = Runner.run_streamed(
            self.agent,
            await self.converter.to_agent_input(history),
            context=agent_context,
            max_turns=MAX_TOOL_ROUNDS,
            run_config=self.run_config,
        )
        try:
            async for event in with_unique_item_ids(
                stream_agent_response(agent_context, result),
                lambda: self.store.generate_item_id("message", thread, context),
            ):
                yield event
        except openai.OpenAIError as exc:
            logger.warning("model call failed in thread %s: %r", thread.id, exc)
            raise model_error_to_stream_error(exc) from exc
        finally:
            # chatkit does not cancel the run when the stream's consumer goes away; without this
            # the model call would go on (and be paid for) after a cancel or a failure.
            result.cancel()
