"""Load results for people: the table `taskchat load` prints and its latency chart."""

from __future__ import annotations

from pathlib import Path

from services.loadgen.run import LoadResult
from services.loadgen.stats import Percentiles


def load_table(results: list[LoadResult]) -> str:
    """One line per load run: the figures `taskchat load` reports."""

    def p(values: Percentiles | None) -> str:
        return "-" if values is None else f"{values.p50:.0f}/{values.p95:.0f}/{values.p99:.0f}"

    lines = [
        f"{'run':<16} {'turns':>6} {'errors':>6} {'turns/s':>8} {'events/s':>9}  "
        f"{'1st token p50/95/99 ms':<24} {'added p50/95/99 ms':<20} {'turn p50/95/99 ms':<20}"
    ]
    for r in results:
        lines.append(
            f"{r.label:<16} {r.turns:>6} {r.turns - r.ok_turns:>6} {r.turns_per_s:>8} "
            f"{r.events_per_s:>9}  {p(r.ttft_ms):<24} {p(r.added_ttft_ms):<20} {p(r.turn_ms):<20}"
        )
        for kind, count in sorted(r.errors.items()):
            lines.append(f"    {count} x {kind}")
    return "\n".join(lines)


def latency_chart(
    series: dict[str, list[tuple[int, LoadResult]]], path: Path, title: str
) -> Path | None:
    """Added first-token latency and whole-turn time (p50/p95/p99) against concurrency, one line
    style per series (e.g. split and single process) on one chart."""
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    if not series:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = ("-", "--", ":", "-.")
    for axis, field, name in (
        (axes[0], "added_ttft_ms", "added first-token latency (ms)"),
        (axes[1], "turn_ms", "whole turn (ms)"),
    ):
        for (label, points), style in zip(series.items(), styles, strict=False):
            measured = [(users, getattr(r, field)) for users, r in points if getattr(r, field)]
            for q, marker in (("p50", "o"), ("p95", "s"), ("p99", "^")):
                xs = [users for users, _ in measured]
                ys = [getattr(values, q) for _, values in measured]
                axis.plot(xs, ys, style, marker=marker, label=f"{label} {q}")
        axis.set_xlabel("concurrent streams")
        axis.set_yscale("log")  # a level past capacity would flatten the others
        axis.set_title(name)
        axis.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
