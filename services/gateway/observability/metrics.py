"""The gateway's Prometheus metrics and the helpers that record them.

Defined once per process on prometheus_client's default registry (a second definition of a name
would be refused). Nothing here touches Redis on the hot path: the relay counts frames in memory,
and the cluster-wide figures (queue depth, live workers) are read once per scrape (`scrape.py`).
"""

from __future__ import annotations

import time
from typing import Literal

from prometheus_client import Counter, Gauge, Histogram

# Turn latencies span milliseconds (pickup) to minutes (a long answer with tools).
LATENCY_BUCKETS_S = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0,
)  # fmt: skip

HTTP_REQUESTS = Counter(
    "taskchat_http_requests",
    "HTTP requests answered by the gateway, by route template, method and status.",
    ["route", "method", "status"],
)
OPEN_STREAMS = Gauge(
    "taskchat_open_streams", "Server-sent event streams this gateway is relaying now."
)
TURNS = Counter(
    "taskchat_turns",
    "Turns relayed by this gateway, by how the stream ended: completed (the worker's end "
    "marker), cancelled (ended by a cancel), no_worker (not picked up in time), worker_lost "
    "(heartbeats stopped), gap (an event went missing), log_lost (the event log could not be "
    "read), client_gone (the browser left first).",
    ["outcome"],
)
PICKUP_SECONDS = Histogram(
    "taskchat_turn_pickup_seconds",
    "From enqueueing a turn to a worker announcing it started it.",
    buckets=LATENCY_BUCKETS_S,
)
FIRST_TOKEN_SECONDS = Histogram(
    "taskchat_turn_first_token_seconds",
    "From enqueueing a turn to relaying the answer's first text delta.",
    buckets=LATENCY_BUCKETS_S,
)
TURN_SECONDS = Histogram(
    "taskchat_turn_duration_seconds",
    "From enqueueing a turn to the end of its stream (completed turns only).",
    buckets=LATENCY_BUCKETS_S,
)
QUEUE_DEPTH = Gauge("taskchat_queue_depth", "Turns waiting in the queue for a worker.")
LIVE_WORKERS = Gauge("taskchat_live_workers", "Workers whose heartbeat is current.")
TURNS_RUNNING = Gauge("taskchat_turns_running", "Turns the live workers are running.")
WORKER_CAPACITY = Gauge(
    "taskchat_worker_capacity_turns",
    "Turns the live workers can run at once (WORKER_MAX_TURNS each).",
)

TurnOutcome = Literal[
    "completed", "cancelled", "no_worker", "worker_lost", "gap", "log_lost", "client_gone"
]
TEXT_DELTA_MARKER = b'"assistant_message.content_part.text_delta"'
"""How a text delta event's JSON starts its update type: a substring test, not a parse."""


class TurnObservation:
    """One relayed turn's metrics: created when the relay starts, `finish`ed when it ends."""

    def __init__(self) -> None:
        self._started_at = time.monotonic()
        self._picked_up = False
        self._first_token = False
        self.outcome: TurnOutcome = "client_gone"
        """Set by the relay when the stream ends for a known reason."""
        OPEN_STREAMS.inc()

    def picked_up(self) -> None:
        if not self._picked_up:
            self._picked_up = True
            PICKUP_SECONDS.observe(time.monotonic() - self._started_at)

    def relayed(self, event: bytes) -> None:
        if not self._first_token and TEXT_DELTA_MARKER in event:
            self._first_token = True
            FIRST_TOKEN_SECONDS.observe(time.monotonic() - self._started_at)

    def finish(self) -> None:
        OPEN_STREAMS.dec()
        TURNS.labels(outcome=self.outcome).inc()
        if self.outcome == "completed":
            TURN_SECONDS.observe(time.monotonic() - self._started_at)
