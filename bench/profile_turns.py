"""Where a turn's CPU goes: py-spy on the worker and the gateway under a small load.

python -m bench.profile_turns [--paced]   # needs py-spy (`pip install py-spy`); /tmp/profile_*.txt

One worker, an unpaced emulator, 30 users sending 6 messages each (`--paced`: split_vs_single's
paced model, 30 streams' worth of arrivals); py-spy samples both processes for 25 s (`--format
raw`: collapsed stacks) and this prints, per process, the share of samples spent in each package
(inclusive) and the functions with the most samples of their own. Shares, not times: they hold
on a loaded machine better than absolute figures do.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bench.scenarios.common import load
from bench.scenarios.split_vs_single import (
    FIRST_TOKEN_MS,
    LONG_TEXT,
    TOKENS_PER_CHUNK,
    TOKENS_PER_S,
    TURN_S,
)
from bench.system import SystemSpec, bench_backends, started_system

PACKAGES = (
    "pydantic", "chatkit/", "agents/", "openai/", "httpx", "httpcore", "redis/", "asyncpg",
    "msgspec", "arq/", "litestar", "uvicorn", "services/agent", "services/gateway",
    "shared/turns", "shared/store", "shared/db",
)  # fmt: skip
_FRAME_PATH = re.compile(r"\((.*?)(:\d+)?\)$")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_turns")
    parser.add_argument("--seconds", type=int, default=25)
    parser.add_argument("--out", type=Path, default=Path("/tmp"))
    parser.add_argument("--paced", action="store_true",
                        help="the paced model of split_vs_single (a chunk every 50 ms), 30 streams "
                        "arriving in an open loop, instead of the unpaced closed loop")  # fmt: skip
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        parser.error("py-spy is not installed (pip install py-spy)")
    args.out.mkdir(parents=True, exist_ok=True)
    outputs: dict[str, Path] = {}
    spec = (
        SystemSpec(workers=1, first_token_ms=FIRST_TOKEN_MS, tokens_per_s=TOKENS_PER_S,
                   tokens_per_chunk=TOKENS_PER_CHUNK)
        if args.paced else SystemSpec(workers=1)
    )  # fmt: skip
    with bench_backends() as backends, started_system(spec, backends) as system:
        load(system, "warm-up", 0, users=4, messages=2, progress=False, pids=None)
        targets = {"worker": system.pids["worker-1"], "gateway": system.pids["gateway"]}
        spies = []
        for name, pid in targets.items():
            outputs[name] = args.out / f"profile_{name}.txt"
            spies.append(
                subprocess.Popen(
                    [
                        py_spy,
                        "record",
                        "--nonblocking",
                        "-r",
                        "200",
                        "-d",
                        str(args.seconds),
                        "--format",
                        "raw",
                        "-o",
                        str(outputs[name]),
                        "--pid",
                        str(pid),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.STDOUT,
                )
            )
        if args.paced:
            result = load(system, "profiled", FIRST_TOKEN_MS, mode="open", rate=30 / TURN_S,
                          duration_s=args.seconds, text=LONG_TEXT, progress=False,
                          parse_deltas=False)  # fmt: skip
        else:
            result = load(system, "profiled", 0, users=30, messages=6, progress=False,
                          parse_deltas=False)  # fmt: skip
        for spy in spies:
            spy.wait()
    print(f"{result.ok_turns} turns, {result.events / max(result.ok_turns, 1):.1f} events a turn;"
          f" CPU ms per turn: {result.cpu_ms_per_turn}")  # fmt: skip
    for name, path in outputs.items():
        print(summary(name, path.read_text().splitlines()))
    return 0


def summary(name: str, stacks: list[str], top: int = 12) -> str:
    """Inclusive shares by package and the functions with the most samples of their own."""
    total = 0
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for line in stacks:
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        seen = set()
        for frame in frames:
            match = _FRAME_PATH.search(frame)
            path = match.group(1) if match else frame
            package = next((p for p in PACKAGES if p in path), None)
            if package is not None and package not in seen:
                seen.add(package)
                packages[package] += samples
    lines = [f"== {name}: {total} samples", "  inclusive, by package:"]
    lines += [f"    {100 * n / total:5.1f}%  {p}" for p, n in packages.most_common(top)]
    lines.append("  own samples, by function:")
    lines += [f"    {100 * n / total:5.1f}%  {f[:120]}" for f, n in own.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
