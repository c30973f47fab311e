"""The scenarios `python -m bench` runs, by name, in order."""

from __future__ import annotations

from collections.abc import Callable

from bench.scenarios import (
    cost_model,
    gateway_fanout,
    open_streams,
    relay_throughput,
    scale_out,
    split_vs_single,
    thread_reads,
)
from bench.scenarios.common import Context, ScenarioResult

SCENARIOS: dict[str, Callable[[Context], ScenarioResult]] = {
    "split_vs_single": split_vs_single.run,
    "scale_out": scale_out.run,
    "open_streams": open_streams.run,
    "relay_throughput": relay_throughput.run,
    "thread_reads": thread_reads.run,
    "cost_model": cost_model.run,
    "gateway_fanout": gateway_fanout.run,
}
