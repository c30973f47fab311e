"""`taskchat` entry point: builds the argparse tree from the subcommand modules and dispatches.

Subcommand modules import their heavy dependencies inside `run`, so `taskchat --help` (and
`taskchat token`) stay fast and never touch a database, Redis or the network.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Protocol

from services.cli.chat import command as chat
from services.cli.commands import (
    emulator,
    gateway,
    load,
    migrate,
    status,
    tokens,
    usage,
    worker,
)
from services.cli.dev import command as dev


class Subcommand(Protocol):
    def register(self, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None: ...


SUBCOMMANDS: tuple[Subcommand, ...] = (
    dev,
    gateway,
    worker,
    emulator,
    migrate,
    tokens,
    chat,
    status,
    usage,
    load,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="taskchat",
        description="TaskChat: a scalable ChatKit backend (gateway, agent workers, Gemini).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in SUBCOMMANDS:
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # Every subparser sets `handler` via set_defaults; it returns the process exit code.
    handler: Callable[[argparse.Namespace], int] = args.handler
    sys.exit(handler(args))


if __name__ == "__main__":
    main()
