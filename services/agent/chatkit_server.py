"""chatkit's server logic, run by a worker for one streaming request at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, RunConfig, Runner
from agents.result import RunResultStreaming
from chatkit.actions import Action
from chatkit.agents import stream_agent_response
from chatkit.errors import CustomStreamError
from chatkit.types import (
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
    WidgetItem,
)

from services.agent.agent_context import TaskAgentContext
from services.agent.gemini.signatures import SignatureScope
from services.agent.history import HistoryConverter
from services.agent.item_ids import with_unique_item_ids
from services.agent.model import GeminiModels
from services.agent.model_errors import to_stream_error
from services.agent.observability.metrics import TURN_USAGE_NOT_RECORDED, record_tokens
from services.agent.stream_reads import WatchedRun, collect_when_done
from services.agent.titles import Title, make_title
from shared.attachments.blob_store import BlobStore
from shared.chatkit.server_base import ChatKitServerBase
from shared.errors import TaskChatError
from shared.observability.log_context import bind_log_context
from shared.request_context import RequestContext
from shared.settings import AgentSettings, AttachmentSettings
from shared.store.postgres_store import PostgresStore
from shared.tasks.actions import apply_action
from shared.tasks.repository import TaskRepository
from shared.usage.repository import TurnUsage, UsageRepository

logger = logging.getLogger(__name__)


class AgentChatKitServer(ChatKitServerBase):
    def __init__(
        self,
        store: PostgresStore,
        tasks: TaskRepository,
        usage: UsageRepository,
        agent: Agent[TaskAgentContext],
        models: GeminiModels,
        blobs: BlobStore,
        settings: AgentSettings,
        max_inline_bytes: int = AttachmentSettings().max_inline_bytes,
    ) -> None:
        super().__init__(store)
        self.max_inline_bytes = max_inline_bytes
        self.postgres = store
        self.tasks = tasks
        self.usage = usage
        self.agent = agent
        self.models = models
        self.settings = settings
        self.blobs = blobs
        self._turn_usage: dict[str, TurnUsage] = {}
        """Usage of queued turns that ended, until their runner takes it."""

    def take_turn_usage(self, turn_id: str) -> TurnUsage | None:
        """What the turn used (None: no model call), for its runner to write with the turn's
        record; the runner takes it whatever the turn's end, so nothing accumulates here."""
        return self._turn_usage.pop(turn_id, None)

    async def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        bind_log_context(thread_id=thread.id)  # the rest of this turn's log lines name the thread
        agent_context = TaskAgentContext(
            thread=thread, store=self.store, request_context=context, tasks=self.tasks
        )
        options = input_user_message.inference_options if input_user_message else None
        # Thought signatures stay within this thread: Gemini 3's call ids repeat across threads.
        model = self.models.for_thread(
            options.model if options else None,
            SignatureScope(user_id=context.user_id, thread_id=thread.id),
        )
        history = await self.postgres.load_recent_items(
            thread.id, self.settings.history_items, context
        )
        # A new thread's title is made alongside the answer, so it adds no time to the turn.
        title = (
            asyncio.create_task(make_title(self.models, input_user_message))
            if thread.title is None and input_user_message is not None
            else None
        )
        result = Runner.run_streamed(
            self.agent,
            await HistoryConverter(
                self.blobs, self.tasks, context.user_id, self.max_inline_bytes
            ).to_agent_input(history),
            context=agent_context,
            max_turns=self.settings.max_tool_rounds,
            run_config=RunConfig(model=model, tracing_disabled=True),
        )
        run = WatchedRun(result)
        try:
            async for event in with_unique_item_ids(
                stream_agent_response(agent_context, run.as_result()),
                lambda: self.store.generate_item_id("message", thread, context),
            ):
                yield event
            if title is not None:
                # chatkit saves the changed thread and sends `thread.updated` after this stream.
                thread.title = (await title).text
        except Exception as exc:
            stream_error = to_stream_error(exc, max_rounds=self.settings.max_tool_rounds)
            if stream_error is None:
                raise
            logger.warning("turn %s in thread %s: %r", context.turn_id, thread.id, exc)
            raise stream_error from exc
        finally:
            # A stop abandons chatkit's two pending reads; they end below, expectedly.
            collect_when_done(run.abandoned_reads(agent_context))
            # chatkit does not cancel the run when the stream's consumer goes away; without this
            # the model call would go on (and be paid for) after a cancel or a failure.
            result.cancel()
            if title is not None and not title.done():
                title.cancel()
            # Nor does it end its event queue when the run fails: completing it lets chatkit's
            # pending queue reader finish instead of being destroyed while still pending.
            agent_context._complete()  # type: ignore[no-untyped-call]
            finished = title is not None and title.done() and not title.cancelled()
            title_cost = title.result() if title is not None and finished else None
            await self._record_usage(
                result, title_cost, thread, context, model.model, agent_context.tool_calls
            )

    async def _record_usage(
        self,
        result: RunResultStreaming,
        title: Title | None,
        thread: ThreadMetadata,
        context: RequestContext,
        model: str,
        tool_calls: int,
    ) -> None:
        # The SDK counts each model call once, from its final (cumulative) usage.
        usage = result.context_wrapper.usage
        title = title or Title("")
        if usage.requests + title.requests == 0:
            return
        input_tokens = usage.input_tokens + title.input_tokens
        output_tokens = usage.output_tokens + title.output_tokens
        record_tokens(model, input_tokens, output_tokens)
        logger.info(
            "turn used %d model calls, %d input and %d output tokens, %d tool calls",
            usage.requests + title.requests,
            input_tokens,
            output_tokens,
            tool_calls,
        )
        used = TurnUsage(
            user_id=context.user_id,
            thread_id=thread.id,
            turn_id=context.turn_id,
            model=model,
            requests=usage.requests + title.requests,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            tool_calls=tool_calls,
        )
        if context.turn_id is not None:
            # A queued turn's runner writes it with the turn's record (`take_turn_usage`).
            self._turn_usage[context.turn_id] = used
            return
        try:
            await self.usage.record(used)
        except Exception:  # accounting must never turn a good answer into an error
            TURN_USAGE_NOT_RECORDED.inc()
            logger.exception("could not record usage of turn %s", context.turn_id)

    async def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """A task list button press sent as `threads.custom_action`: no model call.

        Yields the sender widget item re-rendered; chatkit saves the replacement
        (`store.save_item`) before the event is relayed.
        """
        try:
            updated = await apply_action(action, sender, self.tasks, context.user_id)
        except TaskChatError as exc:
            # chatkit turns this into an error event; the same press would fail the same way.
            raise CustomStreamError(exc.detail, allow_retry=False) from exc
        yield ThreadItemReplacedEvent(item=updated)
