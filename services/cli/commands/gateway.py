"""`taskchat gateway`: run the HTTP gateway (configured by the environment, see shared.settings)."""

from __future__ import annotations

import argparse

from services.cli.args import Subparsers


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "gateway",
        help="serve the ChatKit HTTP gateway (GATEWAY_HOST/GATEWAY_PORT, default 127.0.0.1:8000)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from services.gateway.__main__ import main

    main()
    return 0
