"""The load harness against a real system: what `make bench` and `taskchat load` report from."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.loadgen.run import LoadOptions, run_load
from tests.e2e.conftest import JWT_SECRET, System

pytestmark = pytest.mark.e2e


def test_simulated_users_get_complete_answers_and_are_measured(system: System) -> None:
    gateway = system.service("gateway").process.pid
    result = asyncio.run(
        run_load(
            LoadOptions(
                url=system.gateway_url,
                token_for=system.token,
                users=3,
                messages=2,
                user_prefix="harness",
                pids={"gateway": gateway},
                progress=False,
            )
        )
    )
    assert (result.turns, result.ok_turns, result.errors) == (6, 6, {})
    assert result.ttft_ms is not None and result.turn_ms is not None
    assert 0 < result.ttft_ms.p50 <= result.turn_ms.p50
    assert result.events >= 6 * 4  # created/added/updates/done at least, per turn
    assert result.processes["gateway"].peak_rss_mb > 20
    assert result.cpu_ms_per_turn["gateway"] >= 0


def test_taskchat_load_writes_its_results(system: System, tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable, "-m", "services.cli", "load", "--url", system.gateway_url,
            "--users", "1,2", "--messages", "1", "--warm-up", "1", "--out", str(tmp_path),
        ],
        env={**os.environ, "JWT_SECRET": JWT_SECRET},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    results = json.loads((tmp_path / "load.json").read_text())
    assert [(r["users"], r["ok_turns"]) for r in results] == [(1, 1), (2, 2)]
    assert (tmp_path / "load.png").read_bytes().startswith(b"\x89PNG")
    assert "2 users" in run.stdout


def test_taskchat_load_refuses_bad_levels() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "services.cli", "load", "--users", "10,0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "must be at least 1" in run.stderr
