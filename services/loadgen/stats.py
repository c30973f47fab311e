"""Percentiles, the way every figure in a benchmark result is summarised."""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec


class Percentiles(msgspec.Struct, frozen=True):
    n: int
    p50: float
    p95: float
    p99: float
    max: float
    mean: float


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (`q` in 0..1)."""
    rank = math.ceil(q * len(ordered) - 1e-9)  # the tolerance: 0.95 * 100 is 95.00000000000001
    return ordered[min(len(ordered), max(1, rank)) - 1]


def percentiles(values: Sequence[float]) -> Percentiles | None:
    if not values:
        return None
    ordered = sorted(values)
    return Percentiles(
        n=len(ordered),
        p50=round(percentile(ordered, 0.50), 2),
        p95=round(percentile(ordered, 0.95), 2),
        p99=round(percentile(ordered, 0.99), 2),
        max=round(ordered[-1], 2),
        mean=round(sum(ordered) / len(ordered), 2),
    )
