"""Running one turn: chatkit's `process` for the request, each event appended to the turn's log.

The log always ends with an `end` entry, after an error event when the turn failed, so the gateway
never waits on a turn that is over. While the turn runs, its heartbeat proves the worker alive and
keeps the thread's turn lock; its outcome is recorded in Postgres (`shared.turns.records`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime

from chatkit.store import NotFoundError
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.agent.chatkit_server import AgentChatKitServer
from services.agent.observability.metrics import TURN_USAGE_NOT_RECORDED
from services.agent.running_turns import RunningTurns
from shared.store import codec
from shared.store.thread_reads import ThreadReads
from shared.store.turn_store import TurnContext
from shared.store.turn_writes import TurnStart, TurnWrites
from shared.turns import keys
from shared.turns.error_events import error_event
from shared.turns.event_log import TurnEventLog, TurnEventWriter
from shared.turns.holds import TurnHolds
from shared.turns.messages import CANCELLED_END, Turn, TurnEventKind
from shared.turns.records import TurnRecords, TurnStatus
from shared.turns.text_deltas import TextDelta, text_delta_of
from shared.usage.repository import TurnUsage

logger = logging.getLogger(__name__)

TIMEOUT_MESSAGE = "The answer took too long and was stopped. Please try again."
INTERRUPTED_MESSAGE = "The assistant was interrupted. Please try again."
FAILED_MESSAGE = "Something went wrong while answering. Please try again."
NOT_FOUND_MESSAGE = "That conversation or message no longer exists."
NOT_APPLICABLE_MESSAGE = "This request does not fit the conversation as it is now"
LOG_CLOSE_MARGIN_S = 60
"""Time a turn may take after its timeout to record its end and close its log."""


class TurnRunner:
    def __init__(
        self,
        server: AgentChatKitServer,
        redis: Redis,
        running: RunningTurns,
        records: TurnRecords,
        *,
        worker_id: str,
        turn_timeout_s: float,
        heartbeat_interval_s: float,
        coalesce_s: float = 0.0,
    ) -> None:
        self._server = server
        self._redis = redis
        self._log = TurnEventLog(redis)
        self._holds = TurnHolds(redis)
        self._running = running
        self._records = records
        self._worker_id = worker_id
        self._turn_timeout_s = turn_timeout_s
        self._heartbeat_interval_s = heartbeat_interval_s
        self._coalesce_s = coalesce_s
        self._contexts: dict[str, TurnContext] = {}
        """Each running turn's context (what it read and holds), until its record is closed."""

    async def run(self, turn: Turn) -> None:
        # A turn its gateway gave up on (its client left, or no worker took it in time) is
        # marked: not run for nobody. (A popped turn is this worker's alone: no claim needed.)
        cancelled = await self._redis.exists(keys.turn_cancelled(turn.turn_id))
        wait_ms = int(time.time() * 1000) - turn.enqueued_at_ms
        log = _Log(
            TurnEventWriter(
                self._log,
                turn.turn_id,
                channel=turn.news_channel,
                coalesce_s=self._coalesce_s,
                linger_s=self._coalesce_s,
                # The turn ends within its timeout, and its log is read for a while after.
                expire_s=int(self._turn_timeout_s) + LOG_CLOSE_MARGIN_S + keys.EVENT_LOG_TTL_S,
            )
        )
        status: TurnStatus = "cancelled"
        try:
            if cancelled:
                logger.info("turn %s was abandoned before it started", turn.turn_id)
                return
            # Naming this worker: a gateway that hears nothing for a while asks whether it lives.
            await log.append("started", self._worker_id.encode())
            logger.info("turn %s started after %d ms in the queue", turn.turn_id, wait_ms)
            heartbeat = asyncio.create_task(self._heartbeat(log))
            try:
                status, error = await self._stream(turn, log)
                await asyncio.shield(self._record(turn, status, error))
            finally:
                heartbeat.cancel()
        except RedisError as exc:
            # Redis went away mid-turn: nobody can receive this turn's events any more. The
            # gateway tells its client; we stop here (the model call was cancelled with it).
            status = "failed"
            logger.warning("turn %s lost its event log: %s", turn.turn_id, exc)
            await asyncio.shield(self._record(turn, "failed", "redis lost"))
        except BaseException:
            status = "failed"  # interrupted (the worker shuts down): recorded in `_stream`
            raise
        finally:
            self._server.take_turn_usage(turn.turn_id)  # left by a path that recorded nothing
            self._contexts.pop(turn.turn_id, None)
            # Shielded: the end marker must be written even when this task is being cancelled.
            await asyncio.shield(self._close(turn, log, cancelled=status == "cancelled"))

    async def _record(self, turn: Turn, status: TurnStatus, error: str | None) -> None:
        """Close the turn's record, in one statement with its usage and the items it still holds;
        when the thread is gone, without those items; when that fails, without the usage, then
        the record alone (accounting must never leave a turn looking unfinished)."""
        if status == "running":
            return
        context = self._context(turn)
        usage: TurnUsage | None = self._server.take_turn_usage(turn.turn_id)
        while True:
            try:
                await self._records.close(
                    context, status, (error or "failed") if status == "failed" else None, usage
                )
                return
            except NotFoundError:
                if not context.writes.holds_writes():
                    raise
                logger.warning("turn %s: its thread is gone with what it held", turn.turn_id)
                context.writes.forget_held()
            except Exception:
                if usage is not None:
                    TURN_USAGE_NOT_RECORDED.inc()
                    logger.exception("could not record usage of turn %s", turn.turn_id)
                    usage = None
                elif context.writes.holds_writes():
                    logger.exception("turn %s: could not write what it held", turn.turn_id)
                    context.writes.forget_held()
                else:
                    raise

    def _context(self, turn: Turn) -> TurnContext:
        """The turn's context: what it read of its thread (the thread as the gateway read it,
        if passed on) and what it has yet to write, its record included."""
        context = self._contexts.get(turn.turn_id)
        if context is None:
            reads = ThreadReads(creates_thread=turn.thread_id is None)
            if turn.thread_data is not None:
                reads.seed(codec.load_thread(turn.thread_data))
            start = TurnStart(
                turn_id=turn.turn_id,
                thread_id=turn.thread_id,
                queued_at=datetime.fromtimestamp(turn.enqueued_at_ms / 1000, UTC),
            )
            context = TurnContext(
                user_id=turn.user_id,
                turn_id=turn.turn_id,
                reads=reads,
                writes=TurnWrites(record=start),
            )
            self._contexts[turn.turn_id] = context
        return context

    async def _close(self, turn: Turn, log: _Log, *, cancelled: bool) -> None:
        # The thread and the user's stream slot are free before the client hears the end: a
        # message sent the moment the answer ends must not find the thread still busy.
        try:
            await self._holds.release(turn.turn_id, turn.user_id, turn.thread_id)
        except RedisError as exc:
            logger.warning("turn %s: could not free its thread: %s", turn.turn_id, exc)
        try:
            # A cancelled turn says so, for whoever re-joins it.
            await log.append("end", CANCELLED_END if cancelled else b"")
            await log.flush()
        except RedisError as exc:
            # The gateway notices the silence; the thread lock expires on its own.
            logger.warning("turn %s: could not close its log: %s", turn.turn_id, exc)

    async def _stream(self, turn: Turn, log: _Log) -> tuple[TurnStatus, str | None]:
        """Run the turn to its end; its final status, and the error shown to the user if any."""
        task = asyncio.create_task(self._relay_events(turn, log))
        self._running.add(turn, task)
        try:
            async with asyncio.timeout(self._turn_timeout_s):
                await task
            return "completed", None
        except asyncio.CancelledError:
            if self._running.was_cancelled_by_client(turn.turn_id) and not _being_cancelled():
                return "cancelled", None  # chatkit already saved what was streamed so far
            await asyncio.shield(log.error(INTERRUPTED_MESSAGE))
            await asyncio.shield(self._record(turn, "failed", "interrupted"))
            raise
        except TimeoutError:
            logger.warning("turn %s exceeded %.0fs", turn.turn_id, self._turn_timeout_s)
            return await log.failed(TIMEOUT_MESSAGE)
        except NotFoundError:
            # Raised by chatkit before streaming, e.g. the item to retry after was deleted.
            return await log.failed(NOT_FOUND_MESSAGE, allow_retry=False)
        except ValueError as exc:
            # chatkit's own checks (retry after a non-user item, no pending client tool call...).
            return await log.failed(f"{NOT_APPLICABLE_MESSAGE} ({exc})", allow_retry=False)
        except RedisError:
            raise
        except Exception:
            logger.exception("turn %s failed", turn.turn_id)
            return await log.failed(FAILED_MESSAGE)
        finally:
            self._running.remove(turn.turn_id)

    async def _relay_events(self, turn: Turn, log: _Log) -> None:
        # The turn's record is written by its first statement (normally with the user's
        # message) and closed by its last (`_record`): no statement of its own.
        events = self._server.stream_events(turn.request, self._context(turn))
        # Closed explicitly, so a failed append stops the model call now rather than at GC.
        # A text delta is handed over as text (merged, then encoded once, by the writer);
        # any other event as chatkit's JSON.
        async with contextlib.aclosing(events) as stream:
            async for event in stream:
                delta = text_delta_of(event)
                if delta is not None:
                    await log.append_text_delta(delta)
                else:
                    await log.append("event", self._server.event_json(event))

    async def _heartbeat(self, log: _Log) -> None:
        """Prove the turn alive to its relaying gateway. (What the turn holds, its thread's lock
        and its author's stream slot, the worker's heartbeat thread keeps: `liveness`.)"""
        while True:
            await asyncio.sleep(self._heartbeat_interval_s)
            with contextlib.suppress(RedisError):
                await log.append("heartbeat")


class _Log:
    """The turn's event log, written in order with batching (see `TurnEventWriter`)."""

    def __init__(self, writer: TurnEventWriter) -> None:
        self._writer = writer

    async def append(self, kind: TurnEventKind, data: bytes = b"") -> None:
        await self._writer.append(kind, data)

    async def append_text_delta(self, delta: TextDelta) -> None:
        await self._writer.append_text_delta(delta)

    async def flush(self) -> None:
        await self._writer.flush()

    async def error(self, message: str, *, allow_retry: bool = True) -> None:
        await self.append("event", error_event(message, allow_retry=allow_retry))

    async def failed(
        self, message: str, *, allow_retry: bool = True
    ) -> tuple[TurnStatus, str | None]:
        """Tell the user the turn failed; the status and error to record."""
        await self.error(message, allow_retry=allow_retry)
        return "failed", message


def _being_cancelled() -> bool:
    """True when the current task itself is being cancelled (e.g. the worker shuts down)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
