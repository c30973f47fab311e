"""`taskchat emulator`: serve the offline Gemini emulator (OpenAI-compatible API)."""

from __future__ import annotations

import argparse

from services.cli.args import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="serve the Gemini emulator at http://HOST:PORT/v1beta/openai/",
    )
    parser.add_argument("--host", help="interface to bind (default: EMULATOR_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: EMULATOR_PORT or 8090)")
    parser.set_defaults(handler=run)


def emulator_argv(args: argparse.Namespace) -> list[str]:
    """Forward only the options given, so the emulator's own env defaults still apply."""
    argv: list[str] = []
    if args.host is not None:
        argv += ["--host", args.host]
    if args.port is not None:
        argv += ["--port", str(args.port)]
    return argv


def run(args: argparse.Namespace) -> int:
    from services.gemini_emulator.__main__ import main

    main(emulator_argv(args))
    return 0
