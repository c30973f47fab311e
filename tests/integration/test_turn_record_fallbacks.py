"""How a worker closes its turn's record (`TurnRunner._record`) when part of the close cannot be
written: the record is closed whatever else is lost (real Postgres and Redis; the agent server is
a stand-in that only hands over the turn's usage)."""

from __future__ import annotations

import time
from typing import cast

from prometheus_client import REGISTRY
from redis.asyncio import Redis

from services.agent.chatkit_server import AgentChatKitServer
from services.agent.running_turns import RunningTurns
from services.agent.turn_runner import TurnRunner
from shared.db.pool import DbPool
from shared.store.postgres_store import PostgresStore
from shared.store.turn_store import TurnStore
from shared.turns.messages import Turn
from shared.turns.records import TurnRecords
from shared.usage.repository import TurnUsage, UsageRepository
from tests.integration.turn_threads import ALICE, reply, stored_thread, user_message


class UsageOnly:
    """What `TurnRunner._record` asks of the agent server: the usage of the turn's model calls."""

    def __init__(self, usage: TurnUsage | None) -> None:
        self.usage = usage

    def take_turn_usage(self, turn_id: str) -> TurnUsage | None:
        usage, self.usage = self.usage, None
        return usage


def runner(db_pool: DbPool, redis: Redis, usage: TurnUsage | None) -> TurnRunner:
    return TurnRunner(
        cast(AgentChatKitServer, UsageOnly(usage)), redis, RunningTurns(), TurnRecords(db_pool),
        worker_id="w1", turn_timeout_s=30, heartbeat_interval_s=1,
    )  # fmt: skip


def usage_of(turn_id: str, *, input_tokens: int = 10) -> TurnUsage:
    return TurnUsage(
        user_id="alice", thread_id="thr_t", turn_id=turn_id, model="gemini",
        requests=1, input_tokens=input_tokens, output_tokens=20,
    )  # fmt: skip


async def a_thread(db_pool: DbPool) -> tuple[PostgresStore, Turn]:
    plain = await stored_thread(db_pool, [])
    turn = Turn(
        turn_id="turn-1", user_id="alice", request=b"{}", thread_id="thr_t",
        enqueued_at_ms=int(time.time() * 1000),
        thread_data=await plain.load_thread_data("thr_t", ALICE),
    )  # fmt: skip
    return plain, turn


async def answer_held(turns: TurnRunner, turn: Turn, store: TurnStore) -> str:
    """The turn's user message (written) and its answer (held), as chatkit would store them."""
    context = turns._context(turn)
    thread = await store.load_thread("thr_t", context)
    await store.add_thread_item("thr_t", user_message("msg_user"), context)
    answer = store.generate_item_id("message", thread, context)
    await store.add_thread_item("thr_t", reply(answer), context)
    return answer


def not_recorded() -> float:
    """`TURN_USAGE_NOT_RECORDED` as scraped."""
    return REGISTRY.get_sample_value("taskchat_turn_usage_not_recorded_total") or 0.0


async def status_of(db_pool: DbPool, turn_id: str) -> tuple[str, str | None] | None:
    row = await db_pool.fetchrow("SELECT status, error FROM turns WHERE turn_id = $1", turn_id)
    return None if row is None else (row["status"], row["error"])


async def test_the_close_writes_the_answer_with_the_record_and_usage(
    db_pool: DbPool, redis_client: Redis
) -> None:
    plain, turn = await a_thread(db_pool)
    turns = runner(db_pool, redis_client, usage_of("turn-1"))
    answer = await answer_held(turns, turn, TurnStore(db_pool, newest_items=5))
    await turns._record(turn, "completed", None)
    page = await plain.load_thread_items("thr_t", None, 5, "asc", ALICE)
    assert [i.id for i in page.data] == ["msg_user", answer]
    assert await status_of(db_pool, "turn-1") == ("completed", None)
    assert await UsageRepository(db_pool).for_turn("alice", "turn-1") == [usage_of("turn-1")]


async def test_a_thread_deleted_mid_turn_still_closes_the_record_with_its_usage(
    db_pool: DbPool, redis_client: Redis
) -> None:
    plain, turn = await a_thread(db_pool)
    turns = runner(db_pool, redis_client, usage_of("turn-1"))
    await answer_held(turns, turn, TurnStore(db_pool, newest_items=5))
    await plain.delete_thread("thr_t", ALICE)
    await turns._record(turn, "completed", None)
    assert await status_of(db_pool, "turn-1") == ("completed", None)
    assert await UsageRepository(db_pool).for_turn("alice", "turn-1") == [usage_of("turn-1")]


async def test_usage_that_cannot_be_written_leaves_the_record_and_the_answer(
    db_pool: DbPool, redis_client: Redis
) -> None:
    plain, turn = await a_thread(db_pool)
    unwritable = usage_of("turn-1", input_tokens=2**40)  # past the column's integer
    turns = runner(db_pool, redis_client, unwritable)
    answer = await answer_held(turns, turn, TurnStore(db_pool, newest_items=5))
    before = not_recorded()
    await turns._record(turn, "failed", "model error")
    assert not_recorded() == before + 1
    assert await status_of(db_pool, "turn-1") == ("failed", "model error")
    assert await UsageRepository(db_pool).for_turn("alice", "turn-1") == []
    page = await plain.load_thread_items("thr_t", None, 5, "asc", ALICE)
    assert [i.id for i in page.data] == ["msg_user", answer]


async def test_a_turn_stopped_before_its_first_statement_is_recorded(
    db_pool: DbPool, redis_client: Redis
) -> None:
    _, turn = await a_thread(db_pool)
    turns = runner(db_pool, redis_client, None)
    await turns._record(turn, "failed", "redis lost")  # e.g. its log was gone at the start
    assert await status_of(db_pool, "turn-1") == ("failed", "redis lost")
