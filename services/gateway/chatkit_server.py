"""chatkit's server, as the gateway uses it: only for requests answered without a model."""

from __future__ import annotations

from collections.abc import AsyncIterator

from chatkit.server import ChatKitServer
from chatkit.types import FeedbackKind, ThreadMetadata, ThreadStreamEvent, UserMessageItem

from shared.request_context import RequestContext
from shared.store.postgres_store import PostgresStore


class GatewayChatKitServer(ChatKitServer[RequestContext]):
    """Answers the non-streaming ChatKit requests straight from Postgres.

    Streaming requests never reach `respond` here: the gateway queues them for an agent worker.
    """

    def __init__(self, store: PostgresStore) -> None:
        super().__init__(store)
        self.postgres = store

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
