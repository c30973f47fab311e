"""`python -m bench` (`make bench`): every scenario on throw-away systems, figures vs targets.

python -m bench                  # all scenarios, results in bench/results/
python -m bench scale_out        # one (or several) by name
python -m bench --quick          # small loads: checks the harness, not the figures
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import msgspec

from bench.report import latency_chart, markdown_table, paced_series, table
from bench.scenarios import SCENARIOS
from bench.scenarios.common import Context, ScenarioResult, save
from bench.system import bench_backends

RESULTS_DIR = Path(__file__).parent / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "scenarios",
        nargs="*",
        metavar="SCENARIO",
        help=f"which to run ({', '.join(SCENARIOS)}; default: all)",
    )
    parser.add_argument("--quick", action="store_true", help="small loads, results not kept")
    parser.add_argument("--results", type=Path, default=None,
                        help="where to write results (default: bench/results, or a temporary "
                        "directory with --quick)")  # fmt: skip
    args = parser.parse_args(argv)
    # Stopped with SIGTERM, still stop every process and server the scenarios started.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    names = args.scenarios or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(SCENARIOS)}")
    results_dir = args.results or (Path("/tmp/taskchat-bench-quick") if args.quick else RESULTS_DIR)
    results: list[ScenarioResult] = []
    with bench_backends() as backends:
        context = Context(backends=backends, results_dir=results_dir, quick=args.quick)
        for name in names:
            print(f"== {name}", file=sys.stderr, flush=True)
            result = SCENARIOS[name](context)
            results.append(result)
            written = [save(result, results_dir)]
            if name == "split_vs_single":
                chart = latency_chart(
                    paced_series(result.runs),
                    results_dir / "split_vs_single.png",
                    "TaskChat (gateway, queue, 2 workers) vs the one-process anchor, paced",
                )
                written += [chart] if chart else []
            print(f"   wrote {', '.join(str(p) for p in written)}", file=sys.stderr)
    print(table(results))
    # The summary covers every scenario with results here, run now or before.
    kept = _kept_results(results_dir)
    (results_dir / "summary.md").write_text(markdown_table(kept) + "\n")
    summary = {r.scenario: r.figures for r in kept}
    (results_dir / "summary.json").write_bytes(msgspec.json.format(msgspec.json.encode(summary)))
    return 0


def _kept_results(results_dir: Path) -> list[ScenarioResult]:
    found = []
    for name in SCENARIOS:
        path = results_dir / f"{name}.json"
        if path.exists():
            found.append(msgspec.json.decode(path.read_bytes(), type=ScenarioResult))
    return found


if __name__ == "__main__":
    sys.exit(main())
