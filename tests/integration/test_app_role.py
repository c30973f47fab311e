"""The services' database role cannot read past row-level security (issue 17 item 6): it owns no
table, the policies are forced on the owner too, and so a query that forgets the user scope reads
nothing rather than everything. Migrations run as the owner.

Both roles here are ordinary roles (no SUPERUSER, no BYPASSRLS), as on a managed service; a
superuser, which every test elsewhere connects as, bypasses row-level security whatever is set.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
from chatkit.types import (
    InferenceOptions,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from services.cli.commands.migrate import apply_pending
from shared.db.migrations import apply_migrations, available_migrations
from shared.db.pool import DbPool, create_pool
from shared.db.startup import migrate
from shared.request_context import RequestContext
from shared.settings import DatabaseSettings
from shared.store.thread_reads import ThreadReads
from shared.store.turn_store import TurnContext, TurnStore
from shared.store.turn_writes import TurnStart, TurnWrites
from shared.tasks.repository import TaskRepository
from shared.turns.records import WORKER_LOST, TurnRecords
from tests.db_roles import (
    OWNER_ROLE,
    as_role,
    fresh_service_role,
    migrated_pool,
    owned_scratch_database,
)

NOW = datetime(2025, 1, 1, tzinfo=UTC)


@pytest.fixture
def owned_database() -> Iterator[str]:
    with owned_scratch_database("taskchat_roles") as url:
        yield url


@pytest.fixture
async def owner_pool(owned_database: str) -> AsyncIterator[DbPool]:
    """Migrated by its owner, who is also the role the services connect as (one URL)."""
    pool = await create_pool(DatabaseSettings(url=as_role(owned_database, OWNER_ROLE)))
    try:
        await apply_migrations(pool)
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def service_role() -> AsyncIterator[str]:
    async with fresh_service_role() as role:
        yield role


@pytest.fixture
async def service_pool(owned_database: str, service_role: str) -> AsyncIterator[DbPool]:
    """The two-role deployment: the services log in as a role that owns nothing (and was never
    granted anything), migrations run as the owner."""
    settings = DatabaseSettings(
        url=as_role(owned_database, service_role),
        migration_url=as_role(owned_database, OWNER_ROLE),
    )
    async with migrated_pool(settings) as pool:
        yield pool


async def test_a_query_outside_the_user_scope_reads_nothing_even_as_the_owner(
    owner_pool: DbPool,
) -> None:
    tasks = TaskRepository(owner_pool)
    await tasks.create("alice", "a1")
    await tasks.create("bob", "b1")
    # Forgot the scope: no user, plain pool. Before FORCE, the owner read (and could change) both.
    assert await owner_pool.fetch("SELECT title FROM tasks") == []
    assert await owner_pool.execute("UPDATE tasks SET title = 'pwned'") == "UPDATE 0"
    assert [t.title for t in await tasks.list("alice")] == ["a1"]


async def test_the_services_role_owns_nothing_and_reads_only_in_a_user_scope(
    service_pool: DbPool, owned_database: str, service_role: str
) -> None:
    admin = await asyncpg.connect(owned_database)
    try:
        owners = {
            row["tableowner"]
            for row in await admin.fetch(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'public'"
            )
        }
        assert owners == {OWNER_ROLE}
        assert await admin.fetchval(
            "SELECT pg_has_role($1, 'taskchat_app', 'MEMBER')", service_role
        )
    finally:
        await admin.close()

    tasks = TaskRepository(service_pool)
    await tasks.create("alice", "a1")
    await tasks.create("carol$u", "c1")
    assert [t.title for t in await tasks.list("carol$u")] == ["c1"]
    assert await service_pool.fetch("SELECT title FROM tasks") == []
    assert await service_pool.execute("DELETE FROM tasks") == "DELETE 0"
    # Not the owner: the schema and its row-level security are out of its reach.
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await service_pool.execute("ALTER TABLE tasks NO FORCE ROW LEVEL SECURITY")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await service_pool.execute("DROP TABLE tasks")
    assert [t.title for t in await tasks.list("alice")] == ["a1"]


async def test_turn_housekeeping_across_users_works_as_the_services_role(
    service_pool: DbPool,
) -> None:
    records, store = TurnRecords(service_pool), TurnStore(service_pool, newest_items=5)
    turn_ids = [f"turn-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    for turn_id, user in zip(turn_ids, ("alice", "bob"), strict=True):
        # Recorded as a worker's first statement records a turn (here one that writes nothing).
        start = TurnStart(turn_id=turn_id, thread_id=None, queued_at=datetime.now(UTC))
        await store.flush(
            TurnContext(user_id=user, turn_id=turn_id, writes=TurnWrites(record=start))
        )
    assert sorted(await records.running_since(0)) == sorted(turn_ids)
    await records.failed(turn_ids[1], WORKER_LOST)
    record = await records.get(turn_ids[1], "bob")
    assert record is not None and record.status == "failed"
    assert await records.get(turn_ids[1], "alice") is None


async def test_a_turns_writes_work_as_the_services_role(service_pool: DbPool) -> None:
    # One statement of data-modifying CTEs (thread, record, items, newest), then the close.
    store, records = TurnStore(service_pool, newest_items=5), TurnRecords(service_pool)
    turn_id = f"turn-{uuid.uuid4().hex[:8]}"
    context = TurnContext(
        user_id="alice", turn_id=turn_id, reads=ThreadReads(creates_thread=True),
        writes=TurnWrites(record=TurnStart(turn_id=turn_id, thread_id=None, queued_at=NOW)),
    )  # fmt: skip
    thread_id = f"thr_{uuid.uuid4().hex[:8]}"
    await store.save_thread(ThreadMetadata(id=thread_id, created_at=NOW), context)
    message = UserMessageItem(
        id=f"msg_{uuid.uuid4().hex[:8]}", thread_id=thread_id, created_at=NOW,
        content=[UserMessageTextContent(text="hi")], inference_options=InferenceOptions(),
    )  # fmt: skip
    await store.add_thread_item(thread_id, message, context)
    await records.close(context, "completed", None, None)
    record = await records.get(turn_id, "alice")
    assert record is not None and (record.status, record.thread_id) == ("completed", thread_id)
    page = await store.load_thread_items(thread_id, None, 5, "asc", RequestContext("alice"))
    assert [i.id for i in page.data] == [message.id]
    # A gateway's worker-lost record, for a turn whose worker wrote nothing.
    await records.lost("turn-lost", "bob", None)
    lost = await records.get("turn-lost", "bob")
    assert lost is not None and (lost.status, lost.error) == ("failed", WORKER_LOST)


async def test_a_services_role_that_bypasses_row_level_security_is_reported(
    owned_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    # The admin URL is a superuser's: what a Neon console role would amount to.
    settings = DatabaseSettings(
        url=owned_database, migration_url=as_role(owned_database, OWNER_ROLE)
    )
    pool = await create_pool(settings)
    try:
        with caplog.at_level(logging.WARNING, logger="shared.db.startup"):
            await migrate(settings, pool)
    finally:
        await pool.close()
    assert "is a superuser or has BYPASSRLS" in caplog.text


async def test_taskchat_migrate_runs_as_the_owner_of_the_migration_url(
    owned_database: str, base_env: dict[str, str], service_role: str
) -> None:
    environ = {
        **base_env,
        "DATABASE_URL": as_role(owned_database, service_role),
        "MIGRATION_DATABASE_URL": as_role(owned_database, OWNER_ROLE),
    }
    assert await apply_pending(environ) == [m.name for m in available_migrations()]
    assert await apply_pending(environ) == []
    admin = await asyncpg.connect(owned_database)
    try:
        assert await admin.fetchval(
            "SELECT tableowner FROM pg_tables WHERE tablename = 'tasks'"
        ) == (OWNER_ROLE)
        assert await admin.fetchval(
            "SELECT pg_has_role($1, 'taskchat_app', 'MEMBER')", service_role
        )
    finally:
        await admin.close()
