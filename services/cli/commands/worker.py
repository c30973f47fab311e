"""`taskchat worker`: run one agent worker process (start more processes to scale out)."""

from __future__ import annotations

import argparse

from services.cli.args import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run one agent worker that executes chat turns")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from services.agent.__main__ import main

    main()
    return 0
