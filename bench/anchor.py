"""The yardstick: OpenAI's ChatKit samples' shape in one process (`../shared/anchors/`).

Issue 19's targets are set against it: one Starlette process, chatkit and the Agents SDK, an
in-memory store, no queue and no database. It is not part of TaskChat and never copied into the
project: each run copies it into a temporary directory (its README's own instructions) and
starts its `services/gateway.py` with this virtualenv's Python, which has every package it needs
at the versions TaskChat runs.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from services.launcher.net import free_port, wait_until_healthy
from services.launcher.processes import ChildProcess
from services.launcher.system import LOCALHOST, SystemProcesses, SystemSpec, start_emulator
from shared.settings.model import DEFAULT_GEMINI_MODEL

ANCHOR_DIR_VAR = "TASKCHAT_ANCHOR_DIR"
DEFAULT_ANCHOR_DIR = Path(__file__).resolve().parents[2] / "shared/anchors/single-process-samples"
"""Beside the project's root, where the team keeps it."""
SCHEMAS_UNCHECKED = ("--check-tool-schemas", "false")
"""The anchor sends OpenAI's strict tool schemas (`additionalProperties`), which Gemini and so
the emulator refuse: every turn would fail. Its emulator lets them through; TaskChat's keeps
the check (TaskChat translates its schemas; no tool is called in the measured turns)."""


class AnchorMissing(RuntimeError):
    pass


def anchor_dir() -> Path:
    configured = os.environ.get(ANCHOR_DIR_VAR, "").strip()
    path = Path(configured) if configured else DEFAULT_ANCHOR_DIR
    if not (path / "services" / "gateway.py").is_file():
        raise AnchorMissing(
            f"the single-process anchor is not at {path}; set {ANCHOR_DIR_VAR} to its directory"
        )
    return path


def start_anchor(system: SystemProcesses, spec: SystemSpec, workdir: Path) -> None:
    """The emulator and the anchor, on free ports; `system.gateway_url` is the anchor's."""
    start_emulator(system, SystemSpec(
        emulator_args=(*spec.emulator_args, *SCHEMAS_UNCHECKED),
        startup_timeout_s=spec.startup_timeout_s,
    ))  # fmt: skip
    copy = workdir / "anchor"
    shutil.copytree(anchor_dir(), copy, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    port = free_port(LOCALHOST)
    env = {
        **system.env,
        "GATEWAY_HOST": LOCALHOST,
        "GATEWAY_PORT": str(port),
        "GEMINI_MODEL": system.env.get("GEMINI_MODEL") or DEFAULT_GEMINI_MODEL,
    }
    log_path = system.log_dir / "anchor.log" if system.log_dir is not None else None
    child = ChildProcess.start(
        "anchor", [sys.executable, str(copy / "services" / "gateway.py")], env,
        log_path=log_path, cwd=copy,
    )  # fmt: skip
    system.children.append(child)
    system.gateway_url = f"http://{LOCALHOST}:{port}"
    wait_until_healthy(
        f"{system.gateway_url}/healthz", what="the anchor", timeout_s=spec.startup_timeout_s,
        check_alive=system.check_alive,
    )  # fmt: skip
