"""Benchmark results for people: a table of figures against targets, and a latency chart."""

from __future__ import annotations

from typing import Any

from bench.scenarios.common import ScenarioResult
from services.loadgen.report import latency_chart, load_table
from services.loadgen.run import LoadResult

__all__ = ["latency_chart", "load_table", "markdown_table", "paced_series", "table"]


def table(results: list[ScenarioResult]) -> str:
    lines = [f"{'figure':<46} {'measured':>10} {'baseline':>10}  {'target':<9} met"]
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
        "| scenario | figure | split | baseline (the anchor; cost_model: TaskChat in one process)"
        " | target | met |",
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


def paced_series(runs: dict[str, Any]) -> dict[str, list[tuple[int, LoadResult]]]:
    """`split_paced_100`-style runs of a scenario, as chart series by arrangement."""
    series: dict[str, list[tuple[int, LoadResult]]] = {}
    for name, run in runs.items():
        parts = name.split("_")
        if isinstance(run, LoadResult) and len(parts) == 3 and parts[1] == "paced":
            series.setdefault(parts[0], []).append((int(parts[2]), run))
    return {k: sorted(v, key=lambda p: p[0]) for k, v in series.items()}
