"""How one environment variable's text becomes a typed value.

A parser is called with the stripped, non-empty text of a variable. It raises a plain
`ValueError` when the text is not what it describes (`what`), or `Refused` to say something more
specific; the reader turns either into one line naming the variable.
"""

from __future__ import annotations

import os
from typing import Generic, TypeVar

from shared.db.dsn import asyncpg_dsn

T_co = TypeVar("T_co", covariant=True)


class Refused(ValueError):
    """A value refused with a message of its own (`NAME='value' <message>`, or `NAME <message>`
    when `show_value` is false, for values too long or too secret to repeat)."""

    def __init__(self, message: str, *, show_value: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.show_value = show_value


class Parser(Generic[T_co]):
    """Text to a typed value; `what` completes "NAME='value' is not ..." and the docs."""

    what: str = "valid"

    def __call__(self, raw: str) -> T_co:
        raise NotImplementedError


class Text(Parser[str]):
    what = "text"

    def __call__(self, raw: str) -> str:
        return raw


class Integer(Parser[int]):
    def __init__(self, minimum: int = 0, maximum: int | None = None) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.what = (
            f"an integer >= {minimum}"
            if maximum is None
            else f"an integer from {minimum} to {maximum}"
        )

    def __call__(self, raw: str) -> int:
        number = int(raw)
        if number < self.minimum or (self.maximum is not None and number > self.maximum):
            raise ValueError
        return number


class Seconds(Parser[float]):
    what = "a positive number of seconds"

    def __call__(self, raw: str) -> float:
        number = float(raw)
        if not number > 0:
            raise ValueError
        return number


class Number(Parser[float]):
    def __init__(self, low: float, high: float, unit: str = "") -> None:
        self.low, self.high = low, high
        noun = f"a number of {unit}" if unit else "a number"
        self.what = f"{noun} from {low:g} to {high:g}"

    def __call__(self, raw: str) -> float:
        number = float(raw)
        if not self.low <= number <= self.high:
            raise ValueError
        return number


class Choice(Parser[str]):
    def __init__(self, *allowed: str, upper: bool = False) -> None:
        self.allowed = allowed
        self.upper = upper  # compare in upper case (log levels are written either way)
        self.what = "one of " + ", ".join(allowed)

    def __call__(self, raw: str) -> str:
        value = raw.upper() if self.upper else raw
        if value not in self.allowed:
            raise ValueError
        return value


class Flag(Parser[bool]):
    what = "a boolean (true/false)"

    def __call__(self, raw: str) -> bool:
        lowered = raw.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError


class Url(Parser[str]):
    def __init__(self, *schemes: str) -> None:
        self.prefixes = tuple(f"{scheme}://" for scheme in schemes)
        self.what = "a URL (" + ", ".join(self.prefixes) + ")"

    def __call__(self, raw: str) -> str:
        if not raw.startswith(self.prefixes):
            raise Refused("must start with one of " + ", ".join(self.prefixes))
        return raw


class Csv(Parser[tuple[str, ...]]):
    what = "a comma-separated list"

    def __call__(self, raw: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in raw.split(",") if part.strip())


class Origins(Csv):
    """Exact origins for CORS with credentials: a wildcard would let any site in."""

    what = "a comma-separated list of exact origins"

    def __call__(self, raw: str) -> tuple[str, ...]:
        origins = super().__call__(raw)
        if "*" in origins:
            raise Refused(
                "must list exact origins: '*' with cookies would let any site in",
                show_value=False,
            )
        return origins


class ExistingFile(Parser[str]):
    what = "a readable file"

    def __call__(self, raw: str) -> str:
        if not os.path.isfile(raw):
            raise ValueError
        return raw


class PemText(Parser[str]):
    """A PEM block; env files often carry it on one line with literal `\\n`."""

    what = "a PEM block"

    def __call__(self, raw: str) -> str:
        return raw.replace("\\n", "\n")


class PostgresUrl(Url):
    """A PostgreSQL URL that asyncpg can honour as written (see `shared.db.dsn`)."""

    def __init__(self) -> None:
        super().__init__("postgresql", "postgres")

    def __call__(self, raw: str) -> str:
        url = super().__call__(raw)
        try:
            asyncpg_dsn(url)
        except ValueError as exc:
            raise Refused(f"cannot be used: {exc}", show_value=False) from exc
        return url
