"""Benchmark results for people: a table of figures against targets, and a latency chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.load.run import LoadResult
from bench.load.stats import Percentiles
from bench.scenarios.common import ScenarioResult


def table(results: list[ScenarioResult]) -> str:
    lines = [f"{'figure':<46} {'measured':>10} {'single':>10}  {'target':<9} met"]
    for result in results:
        lines.append(f"-- {result.scenario}")
        for f in result.figures:
            value = "-" if f.value is None else f"{f.value:g}"
            baseline = "" if f.baseline is None else f"{f.baseline:g}"
            met = {True: "yes", False: "NO", None: ""}[f.met]
            lines.append(
                f"{f.name:<46} {value:>10} {baseline:>10}  {f.target + ' ' + f.unit:<9} {met}"
            )
    return "\n".join(lines)


def markdown_table(results: list[ScenarioResult]) -> str:
    """The figures as a Markdown table, for the README."""
    lines = [
        "| scenario | figure | split | single process | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        for f in result.figures:
            value = "-" if f.value is None else f"{f.value:g} {f.unit}"
            baseline = "" if f.baseline is None else f"{f.baseline:g} {f.unit}"
            target = "" if f.target == "-" else f"{f.target} {f.unit}"
            met = {True: "yes", False: "**no**", None: ""}[f.met]
            lines.append(
                f"| {result.scenario} | {f.name} | {value} | {baseline} | {target} | {met} |"
            )
    return "\n".join(lines)


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


def paced_series(runs: dict[str, Any]) -> dict[str, list[tuple[int, LoadResult]]]:
    """`split_paced_100`-style runs of a scenario, as chart series by arrangement."""
    series: dict[str, list[tuple[int, LoadResult]]] = {}
    for name, run in runs.items():
        parts = name.split("_")
        if isinstance(run, LoadResult) and len(parts) == 3 and parts[1] == "paced":
            series.setdefault(parts[0], []).append((int(parts[2]), run))
    return {k: sorted(v, key=lambda p: p[0]) for k, v in series.items()}
