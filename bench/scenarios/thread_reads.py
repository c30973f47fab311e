"""Reading a long thread: a thread of 1,000 items (user messages and answers, each a few hundred
characters), then `items.list` through the gateway (chatkit's default page of the newest 20,
and 100, the largest page the store serves) and the history a worker loads for a turn (the newest
`AGENT_HISTORY_ITEMS` items, converted to the model's input), each 200 times in a row.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    ThreadItem,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from bench.scenarios.common import Context, Figure, ScenarioResult, at_most, reported
from bench.system import RunningSystem, SystemSpec, started_system
from services.agent.history import HistoryConverter
from services.loadgen.stats import Percentiles, percentiles
from shared.attachments.blob_store import PostgresBlobStore
from shared.db.pool import create_pool
from shared.request_context import RequestContext
from shared.settings import AgentSettings, AttachmentSettings, DatabaseSettings
from shared.store.postgres_store import MAX_PAGE_SIZE, PostgresStore
from shared.tasks.repository import TaskRepository

ITEMS = 1000
REPEATS = 200
UI_PAGE = 20
"""Items per `items.list` page when the request names no limit (chatkit's `DEFAULT_PAGE_SIZE`)."""
TEXT = "Remember to water the plants on the balcony and to call the plumber about the sink. " * 3


def run(ctx: Context) -> ScenarioResult:
    repeats = 20 if ctx.quick else REPEATS
    with started_system(SystemSpec(workers=1), ctx.backends) as system:
        user = f"reader-{uuid.uuid4().hex[:6]}"
        thread_id = asyncio.run(_seed(system.database_url, user))
        runs: dict[str, Any] = asyncio.run(_read(system, user, thread_id, repeats))
    history = AgentSettings().history_items
    figures: list[Figure] = [
        at_most(f"items.list, {UI_PAGE} newest of {ITEMS}, p50", _p50(runs, "items_list_page"),
                10, "ms"),
        reported(f"items.list, {MAX_PAGE_SIZE} newest of {ITEMS}, p50",
                 _p50(runs, "items_list_largest_page"), "ms"),
        at_most(f"history load ({history} newest items), p50", _p50(runs, "history_load"), 10,
                "ms"),
        reported(f"history load, all {ITEMS}, p50", _p50(runs, "history_load_all"), "ms"),
    ]  # fmt: skip
    return ScenarioResult(
        scenario="thread_reads", description=__doc__ or "", figures=figures, runs=runs
    )


def _p50(runs: dict[str, Any], name: str) -> float | None:
    values: Percentiles | None = runs.get(name)
    return None if values is None else values.p50


def _items(thread_id: str) -> list[ThreadItem]:
    now = datetime.now(UTC)
    items: list[ThreadItem] = []
    for n in range(ITEMS // 2):
        items.append(
            UserMessageItem(
                id=f"msg_u{n:04d}", thread_id=thread_id, created_at=now,
                content=[UserMessageTextContent(text=f"{n}: {TEXT}")],
                inference_options=InferenceOptions(),
            )
        )  # fmt: skip
        items.append(
            AssistantMessageItem(
                id=f"msg_a{n:04d}", thread_id=thread_id, created_at=now,
                content=[AssistantMessageContent(text=f"Noted ({n}). {TEXT}")],
            )
        )  # fmt: skip
    return items


async def _seed(database_url: str, user: str) -> str:
    pool = await create_pool(DatabaseSettings(url=database_url, pool_max_size=2))
    try:
        store = PostgresStore(pool)
        context = RequestContext(user_id=user)
        thread_id = f"thr_{uuid.uuid4().hex[:12]}"
        await store.save_thread(ThreadMetadata(id=thread_id, created_at=datetime.now(UTC)), context)
        for item in _items(thread_id):
            await store.add_thread_item(thread_id, item, context)
        return thread_id
    finally:
        await pool.close()


async def _read(system: RunningSystem, user: str, thread_id: str, repeats: int) -> dict[str, Any]:
    runs: dict[str, Any] = {}
    headers = {"Authorization": f"Bearer {system.token(user)}"}
    async with httpx.AsyncClient(base_url=system.url, headers=headers, timeout=30) as http:
        for name, limit in (
            ("items_list_page", UI_PAGE),
            ("items_list_largest_page", MAX_PAGE_SIZE),
        ):
            params = {"thread_id": thread_id, "limit": limit, "order": "desc"}
            body = {"type": "items.list", "params": params}
            timings = []
            for _ in range(repeats + 5):
                started = time.perf_counter()
                response = await http.post("/chatkit", json=body)
                timings.append((time.perf_counter() - started) * 1000)
                if (
                    response.status_code != 200
                    or len(json.loads(response.content)["data"]) != limit
                ):
                    raise RuntimeError(f"items.list failed: {response.status_code}")
            runs[name] = percentiles(timings[5:])
    pool = await create_pool(DatabaseSettings(url=system.database_url, pool_max_size=2))
    try:
        store = PostgresStore(pool)
        converter = HistoryConverter(
            PostgresBlobStore(pool),
            TaskRepository(pool),
            user,
            AttachmentSettings().max_inline_bytes,
        )
        context = RequestContext(user_id=user)
        history = AgentSettings().history_items
        for name, limit in (("history_load", history), ("history_load_all", ITEMS)):
            timings = []
            for _ in range(repeats + 5):
                started = time.perf_counter()
                items = await store.load_recent_items(thread_id, limit, context)
                await converter.to_agent_input(items)
                timings.append((time.perf_counter() - started) * 1000)
            runs[name] = percentiles(timings[5:])
    finally:
        await pool.close()
    return runs
