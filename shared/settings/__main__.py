"""`python -m shared.settings [--check]`: regenerate (or check) the settings reference."""

from __future__ import annotations

import sys
from pathlib import Path

from shared.settings.reference import stale, write

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale(ROOT)
        for path in out_of_date:
            print(f"{path} is out of date: run `python -m shared.settings`")
        return 1 if out_of_date else 0
    for path in write(ROOT):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
