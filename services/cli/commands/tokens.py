"""`taskchat token`: print a user token signed with JWT_SECRET (or the `taskchat dev` secret)."""

from __future__ import annotations

import argparse
import os
import sys

from services.cli.args import Subparsers, positive_int
from services.cli.devenv import NoJwtSecretError, find_jwt_secret


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "token",
        help="print a user JWT (signed with JWT_SECRET, else the one in .taskchat/dev.env)",
    )
    parser.add_argument("--user", required=True, help="user id to put in the token's `sub`")
    parser.add_argument(
        "--ttl", type=positive_int, default=86_400, help="lifetime in seconds (default: 86400)"
    )
    parser.set_defaults(handler=run)


def mint_token(user: str, ttl_s: int) -> str:
    """Sign a token the way the gateway verifies it; raises `NoJwtSecretError` without a secret."""
    from services.gateway.auth.tokens import issue_token

    return issue_token(find_jwt_secret(os.environ), user, ttl_s=ttl_s)


def run(args: argparse.Namespace) -> int:
    try:
        print(mint_token(args.user, args.ttl))
    except NoJwtSecretError as exc:
        print(f"taskchat token: {exc}", file=sys.stderr)
        return 2
    return 0
