"""`taskchat dev [--workers N]`: run the whole system locally (what `make run` calls)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from services.cli.args import Subparsers, positive_int
from services.cli.devenv import STATE_DIR


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "dev",
        help="run gateway + workers locally, starting PostgreSQL/Redis/Gemini emulator if unset",
        description=(
            "Start the whole system. Embedded PostgreSQL, Redis and the Gemini emulator are "
            "started only when DATABASE_URL, REDIS_URL and GEMINI_API_KEY are unset; a JWT "
            "secret is generated (and kept in STATE_DIR/dev.env) when JWT_SECRET is unset."
        ),
    )
    parser.add_argument(
        "--workers", type=positive_int, default=1, help="agent worker processes (default: 1)"
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=STATE_DIR,
        help="where embedded data, logs and dev.env live (default: ./.taskchat)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from services.cli.dev.runner import DevOptions, run_dev

    return run_dev(DevOptions(state_dir=args.state_dir, workers=args.workers), os.environ)
