"""`taskchat load`: simulated ChatKit users against a running gateway (see services/loadgen)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

from services.cli.args import Subparsers, positive_int


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "load",
        help="drive simulated users against a running gateway; report latency and throughput",
        description="Each user gets its own token (JWT_SECRET, else the `taskchat dev` secret), "
        "creates a thread and sends messages, reading every answer's stream to its end. "
        "Results: a table here, JSON and a PNG chart in --out.",
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="gateway base URL")
    parser.add_argument(
        "--users", type=_levels, default=[10],
        help="closed loop: concurrent users; a comma list (10,50,100) runs each level in turn",
    )  # fmt: skip
    parser.add_argument("--messages", type=positive_int, default=3, help="turns per user")
    parser.add_argument("--mode", choices=("closed", "open"), default="closed")
    parser.add_argument("--rate", type=_positive_float, default=5.0,
                        help="open loop: new conversations per second")  # fmt: skip
    parser.add_argument("--duration", type=_positive_float, default=30.0,
                        help="open loop: seconds of arrivals")  # fmt: skip
    parser.add_argument("--ramp", type=float, default=1.0,
                        help="closed loop: seconds over which users start")  # fmt: skip
    parser.add_argument("--model-first-token-ms", type=float, default=0.0,
                        help="the model's own time to first token, subtracted for the added "
                        "latency (the emulator's --first-token-delay-ms)")  # fmt: skip
    parser.add_argument("--warm-up", type=int, default=10, metavar="TURNS",
                        help="turns sent, not counted, before measuring")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("load-results"),
                        help="directory for load.json and load.png")  # fmt: skip
    parser.set_defaults(handler=run)


def _levels(raw: str) -> list[int]:
    try:
        levels = [int(part) for part in raw.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a comma list of integers") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"{raw!r}: each level must be at least 1")
    return levels


def _positive_float(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{raw!r} must be more than 0")
    return value


def run(args: argparse.Namespace) -> int:
    import msgspec

    from services.cli.devenv import NoJwtSecretError, find_jwt_secret
    from services.gateway.auth.tokens import issue_token
    from services.loadgen.report import latency_chart, load_table
    from services.loadgen.run import LoadOptions, LoadResult, run_load

    try:
        secret = find_jwt_secret(os.environ)
    except NoJwtSecretError as exc:
        print(f"taskchat load: {exc}", file=sys.stderr)
        return 2
    levels = args.users if args.mode == "closed" else [0]
    results: list[tuple[int, LoadResult]] = []
    base = LoadOptions(
        url=args.url,
        token_for=lambda user: issue_token(secret, user),
        messages=args.messages,
        mode=args.mode,
        rate=args.rate,
        duration_s=args.duration,
        ramp_s=args.ramp,
        model_first_token_ms=args.model_first_token_ms,
    )
    try:
        if args.warm_up > 0:
            warm_up = replace(
                base, mode="closed", users=args.warm_up, messages=1, progress=False,
                user_prefix=f"load-{os.getpid()}-warm-up",
            )  # fmt: skip
            asyncio.run(run_load(warm_up))
        for users in levels:
            label = f"{users} users" if args.mode == "closed" else f"{args.rate}/s"
            options = replace(
                base, users=users, label=label, user_prefix=f"load-{os.getpid()}-{users}"
            )
            results.append((users, asyncio.run(run_load(options))))
    except OSError as exc:
        print(f"taskchat load: cannot reach {args.url}: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_bytes(
        msgspec.json.format(msgspec.json.encode([r for _, r in results])) + b"\n"
    )
    written = [args.out / "load.json"]
    if args.mode == "closed":
        chart = latency_chart(
            {"gateway": results}, args.out / "load.png", f"TaskChat at {args.url}"
        )
        written += [chart] if chart else []
    print(load_table([r for _, r in results]))
    print(f"wrote {', '.join(str(p) for p in written)}")
    return 0 if all(r.ok_turns == r.turns for _, r in results) else 1
