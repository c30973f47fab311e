"""Command line: `python -m services.gemini_emulator [--host H] [--port P] [knobs...]`.

Every flag defaults to its `EMULATOR_*` environment variable, then to the built-in default.
The base URL is printed alone on stdout once the port is bound, so scripts can capture it.
"""

from __future__ import annotations

import argparse
import os
import sys

from services.gemini_emulator.behaviour import (
    BehaviourError,
    allowed_values,
    env_names,
    field_names,
)
from services.gemini_emulator.config import ConfigError, EmulatorConfig
from services.gemini_emulator.server import bind_socket, bound_config, build_server


def parse_args(argv: list[str] | None, defaults: EmulatorConfig) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m services.gemini_emulator",
        description="Offline emulator of Gemini's OpenAI-compatible endpoint.",
    )
    parser.add_argument("--host", default=defaults.host, help="EMULATOR_HOST (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=defaults.port, help="EMULATOR_PORT (8090; 0 = any free port)"
    )
    parser.add_argument(
        "--first-token-delay-ms",
        type=int,
        default=defaults.first_token_delay_ms,
        help="EMULATOR_FIRST_TOKEN_DELAY_MS (0)",
    )
    parser.add_argument(
        "--tokens-per-s",
        type=float,
        default=defaults.tokens_per_s,
        help="EMULATOR_TOKENS_PER_S (0 = no delay between chunks)",
    )
    parser.add_argument(
        "--tokens-per-chunk",
        type=int,
        default=defaults.tokens_per_chunk,
        help="EMULATOR_TOKENS_PER_CHUNK: words per streamed text chunk (1)",
    )
    parser.add_argument(
        "--retry-after-s",
        type=int,
        default=defaults.retry_after_s,
        help="EMULATOR_RETRY_AFTER_S: Retry-After on 429 responses (1)",
    )
    parser.add_argument(
        "--signing-key",
        default=defaults.signing_key,
        help="EMULATOR_SIGNING_KEY: fixed key for thought signatures (random per start)",
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level (info)")
    switches = parser.add_argument_group("Gemini behaviour switches (see behaviour.py)")
    current = defaults.behaviour.to_dict()
    for name, variable in env_names().items():
        switches.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=None,
            metavar="|".join(allowed_values(name)),
            help=f"{variable} ({str(current[name]).lower()})",
        )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    try:
        defaults = EmulatorConfig.from_env(os.environ)
        args = parse_args(argv, defaults)
        flagged = {n: getattr(args, n) for n in field_names() if getattr(args, n) is not None}
        behaviour = defaults.behaviour.with_changes(flagged)
        config = EmulatorConfig(
            host=args.host,
            port=args.port,
            first_token_delay_ms=args.first_token_delay_ms,
            tokens_per_s=args.tokens_per_s,
            tokens_per_chunk=args.tokens_per_chunk,
            retry_after_s=args.retry_after_s,
            behaviour=behaviour,
            signing_key=args.signing_key or None,
        )
    except (ConfigError, BehaviourError) as exc:
        sys.exit(f"gemini emulator: {exc}")
    sock = bind_socket(config.host, config.port)
    config = bound_config(config, sock)
    print(config.base_url, flush=True)
    try:
        build_server(config, log_level=args.log_level).run(sockets=[sock])
    finally:
        sock.close()


if __name__ == "__main__":
    main()
