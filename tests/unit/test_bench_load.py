"""The load harness's own arithmetic and checks (bench/load, bench/process_stats)."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

from services.loadgen.process_stats import cpu_seconds, rss_mb
from services.loadgen.stats import percentile, percentiles
from services.loadgen.turn import InvalidStream, _Checks, is_text_delta


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7
    summary = percentiles(list(reversed(values)))
    assert summary is not None and (summary.n, summary.p50, summary.max) == (100, 50, 100)
    assert percentiles([]) is None


def delta(text: str) -> dict[str, Any]:
    return {
        "type": "thread.item.updated",
        "item_id": "m1",
        "update": {"type": "assistant_message.content_part.text_delta", "delta": text},
    }


CREATED = {"type": "thread.created", "thread": {"id": "thr_1"}}
DONE = {"type": "thread.item.done", "item": {"type": "assistant_message", "id": "m1"}}


def test_a_complete_answer_passes_and_names_its_thread() -> None:
    checks = _Checks(creates_thread=True)
    for event in (CREATED, delta("hi"), DONE):
        checks.see(event)
    checks.finish()
    assert checks.thread_id == "thr_1"
    assert is_text_delta(delta("x")) and not is_text_delta(DONE)


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([delta("hi"), DONE], "not thread.created"),
        ([CREATED, delta("hi")], "no finished assistant message"),
        ([CREATED, {"type": "error", "message": "boom"}], "error event"),
    ],
)
def test_an_incomplete_or_failed_answer_is_an_error(
    events: list[dict[str, Any]], problem: str
) -> None:
    checks = _Checks(creates_thread=True)
    with pytest.raises(InvalidStream, match=problem):
        for event in events:
            checks.see(event)
        checks.finish()


def test_process_figures_come_from_proc() -> None:
    before = cpu_seconds(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # burn CPU the kernel will count
        pass
    assert cpu_seconds(os.getpid()) - before >= 0.1
    assert 10 < rss_mb(os.getpid()) < 10_000
