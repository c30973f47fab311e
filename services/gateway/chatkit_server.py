"""chatkit's server, as the gateway uses it: only for requests answered without a model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from chatkit.actions import Action
from chatkit.types import (
    AudioInput,
    FeedbackKind,
    SyncCustomActionResponse,
    ThreadMetadata,
    ThreadStreamEvent,
    TranscriptionResult,
    UserMessageItem,
    WidgetItem,
)

from services.gateway.attachments.attachment_store import GatewayAttachmentStore
from services.gateway.transcription.transcriber import Transcriber
from shared.chatkit.server_base import ChatKitServerBase
from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore
from shared.tasks.actions import apply_action
from shared.tasks.repository import TaskRepository


class GatewayChatKitServer(ChatKitServerBase):
    """Answers the non-streaming ChatKit requests straight from Postgres.

    Streaming requests never reach `respond` here: the gateway queues them for an agent worker.
    """

    def __init__(
        self,
        store: PostgresStore,
        tasks: TaskRepository,
        attachments: GatewayAttachmentStore,
        transcriber: Transcriber,
    ) -> None:
        super().__init__(store, attachments)
        self.postgres = store
        self.tasks = tasks
        self.transcriber = transcriber

    def respond(
        self,
        thread: ThreadMetadata,
        input_user_message: UserMessageItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        raise RuntimeError("streaming requests run on agent workers, not in the gateway")

    async def add_feedback(
        self,
        thread_id: str,
        item_ids: list[str],
        feedback: FeedbackKind,
        context: RequestContext,
    ) -> None:
        await self.postgres.add_feedback(thread_id, item_ids, feedback, context)

    async def transcribe(
        self, audio_input: AudioInput, context: RequestContext
    ) -> TranscriptionResult:
        return await self.transcriber.transcribe(audio_input, context.user_id)

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        """A task list button press sent as `threads.sync_custom_action`: no model call.

        Bad input raises `InvalidInputError` (400) and another user's task `NotFoundError` (404).
        """
        updated = await apply_action(action, sender, self.tasks, context.user_id)
        # chatkit only returns the sync answer; keeping the thread in step is up to the server.
        await self.store.save_item(thread.id, updated, context)
        return SyncCustomActionResponse(updated_item=updated)
