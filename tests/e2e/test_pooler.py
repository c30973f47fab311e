"""The whole system behind PgBouncer in transaction mode, deployed the way Neon is used: the
services connect through the pooler (`sslmode=require`, `DATABASE_POOLER=transaction`) as a role
that owns nothing, and migrate over a direct URL as the owner (`MIGRATION_DATABASE_URL`).

A turn, two users kept apart (one id with a `$`), a gateway restart, and two gateways migrating a
fresh database at the same moment. The pooler keeps three server connections per role, so the
gateway's and the worker's transactions take turns on the same server connections.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from services.chatkit_client.client import ChatKitClient
from services.gateway.auth.tokens import issue_token
from shared.db.migrations import available_migrations
from tests.conftest import Backends
from tests.db_roles import OWNER_ROLE, SERVICE_ROLE, ensure_login_roles
from tests.e2e.conftest import JWT_SECRET, System, start_system
from tests.e2e.pooled_system import gauges, owned_database, pooled_env
from tests.e2e.processes import Processes, free_ports, wait_healthy
from tests.pgbouncer import PgBouncer, database_name, running_pgbouncer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[PgBouncer]:
    asyncio.run(ensure_login_roles())
    with running_pgbouncer([OWNER_ROLE, SERVICE_ROLE], pool_size=3) as bouncer:
        yield bouncer


@pytest.fixture(scope="module")
def pooled_database_url() -> Iterator[str]:
    with owned_database("taskchat_e2e_pooler") as url:
        yield url


@pytest.fixture(scope="module")
def system(
    backends: Backends,
    tmp_path_factory: pytest.TempPathFactory,
    pgbouncer: PgBouncer,
    pooled_database_url: str,
) -> Iterator[System]:
    log_dir = tmp_path_factory.mktemp("e2e-pooler-logs")
    env = pooled_env(pgbouncer, pooled_database_url)
    running = start_system(backends, log_dir, extra_env=env)
    try:
        yield running
    finally:
        running.processes.stop_all()


def thread_ids(client: ChatKitClient) -> list[str]:
    response = client.request({"type": "threads.list", "params": {"limit": 50}})
    assert response.status_code == 200, response.text
    return [thread["id"] for thread in response.json()["data"]]


def a_turn(client: ChatKitClient, text: str) -> str:
    turn = client.create_thread(text)
    assert turn.status_code == 200
    assert not turn.of_type("error"), turn.raw_events
    return turn.thread_id


def test_a_turn_through_the_pooler(system: System) -> None:
    client = ChatKitClient(system.gateway_url, system.token(f"alice-{uuid.uuid4().hex[:8]}"))
    try:
        first = client.create_thread("add task buy milk")
        assert not first.of_type("error"), first.raw_events
        assert "buy milk" in first.assistant_text()
        second = client.add_message(first.thread_id, "list my tasks")
        assert not second.of_type("error"), second.raw_events
        assert "buy milk" in second.assistant_text()
    finally:
        client.close()


def test_the_connection_gauges_count_what_the_pooler_sees(
    system: System, pgbouncer: PgBouncer, pooled_database_url: str
) -> None:
    """`/metrics` reports the gateway's pool and the workers' (from their heartbeats); together
    they are the client connections the pooler counts for the services' role."""
    client = ChatKitClient(system.gateway_url, system.token(f"frank-{uuid.uuid4().hex[:8]}"))
    try:
        a_turn(client, "add task count connections")
    finally:
        client.close()
    key = (database_name(pooled_database_url), SERVICE_ROLE)
    deadline = time.monotonic() + 20
    while True:  # the workers' figure is as fresh as their last heartbeat (0.5 s here)
        seen = gauges(system.gateway_url)
        pool = pgbouncer.pools()[key]
        clients = int(pool["cl_active"]) + int(pool["cl_waiting"])
        reported = seen["taskchat_db_connections"] + seen["taskchat_workers_db_connections"]
        if reported == clients or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert reported == clients, (seen, pool)
    assert 1 <= seen["taskchat_db_connections"] <= seen["taskchat_db_pool_max"] == 10
    assert 1 <= seen["taskchat_workers_db_connections"] <= seen["taskchat_workers_db_pool_max"]
    assert seen["taskchat_workers_db_pool_max"] == 10  # one worker
    servers = sum(
        int(pool[c]) for c in ("sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login")
    )
    assert servers <= 3  # the pooler's pool size: what Postgres itself holds for them


def test_two_users_are_kept_apart(system: System) -> None:
    alice = ChatKitClient(system.gateway_url, system.token(f"alice-{uuid.uuid4().hex[:8]}"))
    carol = ChatKitClient(system.gateway_url, system.token(f"carol-{uuid.uuid4().hex[:4]}$u"))
    try:
        alices = a_turn(alice, "add task alice's secret")
        carols = a_turn(carol, "add task carol's errand")
        assert thread_ids(alice) == [alices]
        assert thread_ids(carol) == [carols]
        other = carol.request({"type": "threads.get_by_id", "params": {"thread_id": alices}})
        assert other.status_code == 404
        listed = carol.stream(
            {
                "type": "threads.add_user_message",
                "params": {
                    "thread_id": carols,
                    "input": {
                        "content": [{"type": "input_text", "text": "list my tasks"}],
                        "attachments": [],
                        "inference_options": {},
                    },
                },
            }
        )
        assert "carol's errand" in listed.assistant_text()
        assert "secret" not in listed.assistant_text()
    finally:
        alice.close()
        carol.close()


def test_a_restarted_gateway_serves_again(system: System) -> None:
    client = ChatKitClient(system.gateway_url, system.token(f"dave-{uuid.uuid4().hex[:8]}"))
    try:
        before = a_turn(client, "add task before the restart")
        system.service("gateway").stop()
        system.processes.running.remove(system.service("gateway"))
        gateway = system.processes.start("gateway", "services.gateway", system.env)
        wait_healthy(f"{system.gateway_url}/healthz", gateway)
        after = a_turn(client, "add task after the restart")
        assert set(thread_ids(client)) == {before, after}
    finally:
        client.close()


def test_two_gateways_migrate_a_fresh_database_at_once(
    backends: Backends, tmp_path_factory: pytest.TempPathFactory, pgbouncer: PgBouncer
) -> None:
    log_dir = tmp_path_factory.mktemp("e2e-pooler-race-logs")
    processes = Processes(log_dir)
    with owned_database("taskchat_e2e_pooler_race") as database_url:
        env = {
            "REDIS_URL": backends.redis_url(14),
            "JWT_SECRET": JWT_SECRET,
            "GATEWAY_HOST": "127.0.0.1",
            **pooled_env(pgbouncer, database_url),
        }
        try:
            ports = free_ports(2)
            gateways = [
                processes.start(
                    f"gateway-{port}", "services.gateway", {**env, "GATEWAY_PORT": str(port)}
                )
                for port in ports
            ]
            for port, gateway in zip(ports, gateways, strict=True):
                wait_healthy(f"http://127.0.0.1:{port}/healthz", gateway, timeout_s=120)
                token = issue_token(JWT_SECRET, "erin$u")
                listed = httpx.post(
                    f"http://127.0.0.1:{port}/chatkit",
                    json={"type": "threads.list", "params": {}},
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=30,
                )
                assert listed.status_code == 200, listed.text
        finally:
            processes.stop_all()
        assert asyncio.run(applied_migrations(database_url)) == [
            m.name for m in available_migrations()
        ]


async def applied_migrations(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT name FROM schema_migrations ORDER BY name")
        return [row["name"] for row in rows]
    finally:
        await conn.close()
