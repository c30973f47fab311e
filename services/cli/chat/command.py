"""`taskchat chat --user alice`: chat with the running system from a terminal."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable

from services.cli.args import Subparsers, positive_int

DEFAULT_URL = "http://127.0.0.1:8000"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="chat with the gateway from the terminal (one line per message, /quit to exit)",
    )
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--user", help="mint a token for this user id (needs JWT_SECRET or dev.env)")
    who.add_argument("--token", help="use this bearer token instead of minting one")
    parser.add_argument(
        "--url",
        default=os.environ.get("TASKCHAT_URL", DEFAULT_URL),
        help=f"gateway base URL (default: TASKCHAT_URL or {DEFAULT_URL})",
    )
    parser.add_argument("--thread", help="continue this thread instead of starting a new one")
    parser.add_argument(
        "--ttl", type=positive_int, default=86_400, help="lifetime of a minted token (seconds)"
    )
    parser.set_defaults(handler=run)


def read_lines(prompt: str) -> Callable[[], str | None]:
    """A line reader that shows `prompt` on a terminal only (piped input stays clean)."""
    shown = prompt if sys.stdin.isatty() else ""

    def read() -> str | None:
        try:
            return input(shown)
        except EOFError:
            return None

    return read


def run(args: argparse.Namespace) -> int:
    from services.chatkit_client.client import ChatKitClient
    from services.cli.chat.client import TIMEOUT, ChatSession
    from services.cli.commands.tokens import mint_token
    from services.cli.devenv import NoJwtSecretError

    try:
        token = args.token or mint_token(args.user, args.ttl)
    except NoJwtSecretError as exc:
        print(f"taskchat chat: {exc}", file=sys.stderr)
        return 2

    read = read_lines("you> ")
    print(f"Chatting with {args.url} — type a message; /quit or Ctrl-D to leave.")
    client = ChatKitClient(args.url, token, timeout_s=TIMEOUT)
    try:
        session = ChatSession(client, base_url=args.url, out=sys.stdout, thread_id=args.thread)
        try:
            while (line := read()) is not None:
                text = line.strip()
                if text in ("/quit", "/exit"):
                    break
                if text:
                    session.send(text)
        except KeyboardInterrupt:
            print()
    finally:
        client.close()
    if session.thread_id:
        print(f"Thread: {session.thread_id} (continue with --thread {session.thread_id})")
    return 0
