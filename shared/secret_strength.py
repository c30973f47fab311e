"""Refusing placeholder and guessable secrets at start-up.

A deployment copied from an example (`CHANGE_ME...`) or filled with a short pattern would run
with a secret anyone can read in this repository or guess: tokens signed with it would be
accepted. The check is a heuristic, meant to catch those mistakes, not to grade real keys:
random keys from `openssl rand -base64 48` or `secrets.token_urlsafe(32)` pass by far.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Final

PLACEHOLDER_WORDS: Final = (
    "changeme",
    "replaceme",
    "placeholder",
    "yoursecret",
    "secrethere",
    "examplesecret",
    "notasecret",
    "xxxxxxxx",
)
"""Found (lower-cased, letters and digits only) in a secret, it is a placeholder."""
MIN_ESTIMATED_BITS: Final = 96
"""Length times the Shannon entropy of the secret's characters: 32 repeated letters give 0, a
short repeated pattern a few dozen, 32 random base64 characters about 160."""


def placeholder_problem(name: str, value: str) -> str | None:
    """A sentence saying why `value` is a placeholder, or None."""
    letters = re.sub(r"[^a-z0-9]", "", value.lower())
    for word in PLACEHOLDER_WORDS:
        if word in letters:
            return f"{name} is a placeholder (it contains {word!r}); set a real secret"
    return None


def estimated_bits(value: str) -> float:
    counts = Counter(value)
    total = len(value)
    per_char = -sum(n / total * math.log2(n / total) for n in counts.values()) if total else 0.0
    return per_char * total


def weak_secret_problem(name: str, value: str) -> str | None:
    """A sentence saying why `value` cannot be a signing secret, or None; never shows the value."""
    placeholder = placeholder_problem(name, value)
    if placeholder is not None:
        return placeholder
    bits = estimated_bits(value)
    if bits < MIN_ESTIMATED_BITS:
        return (
            f"{name} looks guessable (about {bits:.0f} bits of variety; at least "
            f"{MIN_ESTIMATED_BITS} needed): use e.g. `openssl rand -base64 48`"
        )
    return None
