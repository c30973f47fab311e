"""Each process's CPU time and memory while a load runs, read from /proc (Linux).

CPU is the process's own user + system time (`utime` + `stime`), so a figure per turn is what the
process spent, whatever else shared the machine. PostgreSQL serves each connection from a child
process: its figures are the server's whole process tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SAMPLE_EVERY_S = 0.25


class ProcessUsage(msgspec.Struct, frozen=True):
    cpu_s: float
    """CPU seconds used during the measured window."""
    peak_rss_mb: float
    """Largest resident set seen during the window (sampled every `SAMPLE_EVERY_S`)."""


def _stat_fields(pid: int) -> list[str]:
    # The command name (field 2) may contain spaces; everything after its ')' is space-separated.
    return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(_stat_fields(int(entry.name))[1]) == pid:
                    found.append(int(entry.name))
    return found


def _tree(pid: int, with_children: bool) -> list[int]:
    return [pid, *_children(pid)] if with_children else [pid]


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    total = 0
    for member in _tree(pid, with_children):
        with contextlib.suppress(OSError):
            fields = _stat_fields(member)
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLOCK_TICKS


def rss_mb(pid: int, *, with_children: bool = False) -> float:
    total_kb = 0
    for member in _tree(pid, with_children):
        with contextlib.suppress(OSError):
            total_kb += int(_stat_fields(member)[21]) * PAGE_KB  # rss, in pages
    return total_kb / 1024


@dataclass
class _Sampler:
    pids: Mapping[str, int]
    trees: frozenset[str]
    start_cpu: dict[str, float] = field(default_factory=dict)
    peak_rss: dict[str, float] = field(default_factory=dict)

    def cpu(self) -> dict[str, float]:
        return {n: cpu_seconds(p, with_children=n in self.trees) for n, p in self.pids.items()}

    def sample_rss(self) -> None:
        for name, pid in self.pids.items():
            rss = rss_mb(pid, with_children=name in self.trees)
            self.peak_rss[name] = max(self.peak_rss.get(name, 0.0), rss)


@contextlib.asynccontextmanager
async def measuring(
    pids: Mapping[str, int], *, trees: frozenset[str] = frozenset({"postgres"})
) -> AsyncIterator[dict[str, ProcessUsage]]:
    """CPU and peak RSS of `pids` (by name) over the block; the dict is filled when it ends.
    Names in `trees` count their child processes too."""
    sampler = _Sampler(pids, trees)
    sampler.start_cpu = sampler.cpu()
    usage: dict[str, ProcessUsage] = {}

    async def sample() -> None:
        while True:
            sampler.sample_rss()
            await asyncio.sleep(SAMPLE_EVERY_S)

    sampling = asyncio.create_task(sample())
    try:
        yield usage
    finally:
        sampling.cancel()
        sampler.sample_rss()
        end_cpu = sampler.cpu()
        for name in pids:
            usage[name] = ProcessUsage(
                cpu_s=round(end_cpu[name] - sampler.start_cpu[name], 3),
                peak_rss_mb=round(sampler.peak_rss.get(name, 0.0), 1),
            )
