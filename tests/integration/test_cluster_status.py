"""`taskchat status` from a real Redis: queued turns, live workers, the oldest running turn."""

from __future__ import annotations

import json
import time

import pytest
from redis.asyncio import Redis

from services.cli.__main__ import main
from services.cli.commands.status import collect_status, render_status
from shared.turns.messages import Turn
from shared.turns.queue import TurnQueue
from shared.workers.registry import WorkerRegistry, WorkerStatus


def worker(
    worker_id: str, now: float, running: int, oldest: tuple[str, float] | None
) -> WorkerStatus:
    return WorkerStatus(
        worker_id=worker_id,
        host="h",
        pid=1,
        started_at=now - 100,
        running_turns=running,
        max_turns=10,
        beat_at=now,
        oldest_turn_id=oldest[0] if oldest else None,
        oldest_turn_started_at=oldest[1] if oldest else None,
    )


async def test_status_sums_the_workers_and_finds_the_oldest_turns(redis_client: Redis) -> None:
    now = time.time()
    registry = WorkerRegistry(redis_client, ttl_s=6)
    await registry.beat(worker("w-a", now, 2, ("turn-recent", now - 5)))
    await registry.beat(worker("w-b", now, 3, ("turn-old", now - 42)))
    await registry.beat(worker("w-idle", now, 0, None))
    await registry.beat(worker("w-dead", now - 60, 4, ("turn-lost", now - 600)))
    queue = TurnQueue(redis_client, turn_timeout_s=60)
    for number in range(2):
        enqueued_at_ms = int((now - 10 + number) * 1000)
        turn = Turn(turn_id=f"q{number}", user_id="u", request=b"{}", enqueued_at_ms=enqueued_at_ms)
        await queue.enqueue(turn)

    status = await collect_status(redis_client, liveness_ttl_s=6)

    assert (status.queue_depth, status.live_workers, status.turns_running, status.capacity) == (
        2,
        3,
        5,
        30,
    )
    assert status.oldest_running is not None
    assert (status.oldest_running.turn_id, status.oldest_running.worker_id) == ("turn-old", "w-b")
    assert status.oldest_running.running_s >= 42
    assert status.oldest_queued_s is not None and status.oldest_queued_s < 60  # queued just now
    text = render_status(status, time.time())
    assert "queue depth:     2 turns waiting" in text
    assert "live workers:    3" in text
    assert "turns running:   5 of 30 slots" in text
    assert "oldest running:  turn turn-old on w-b" in text
    assert "w-dead" not in text


async def test_status_without_workers_says_what_happens(redis_client: Redis) -> None:
    status = await collect_status(redis_client, liveness_ttl_s=6)
    assert (status.queue_depth, status.live_workers, status.oldest_running) == (0, 0, None)
    text = render_status(status, time.time())
    assert "oldest running:  none" in text
    assert "No live worker" in text


def test_status_command_prints_json(
    base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in base_env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["status", "--json"])
    assert exited.value.code == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {
        "queue_depth",
        "oldest_queued_s",
        "live_workers",
        "turns_running",
        "capacity",
        "oldest_running",
        "workers",
    }
    assert printed["live_workers"] == len(printed["workers"])


def test_status_command_reports_an_unreachable_redis(
    base_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {**base_env, "REDIS_URL": "redis://127.0.0.1:1/0"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["status"])
    assert exited.value.code == 1
    assert "cannot reach Redis" in capsys.readouterr().err
