"""Small argparse helpers shared by the subcommand modules."""

from __future__ import annotations

import argparse
from typing import TypeAlias

# Only generic in typeshed, so the alias must stay a string (never evaluated at runtime).
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def positive_int(raw: str) -> int:
    """argparse `type=` for counts and durations: reject 0 and negatives with a clear message."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} must be at least 1")
    return value
