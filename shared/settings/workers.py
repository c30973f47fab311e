"""Agent workers and the liveness of turns.

Each setting is declared once, here; `docs/configuration.md` and `.env.example` follow from it
(`python -m shared.settings`).
"""

from __future__ import annotations

from shared.settings.declaration import setting, settings_group
from shared.settings.parsers import Integer, Seconds
from shared.settings.redaction import Redacted


@settings_group
class WorkerSettings(Redacted):
    """Agent workers and the liveness of turns."""

    max_concurrent_turns: int = setting(
        "WORKER_MAX_TURNS",
        Integer(minimum=1),
        default=50,
        doc="turns one worker process runs at once (they are I/O bound)",
        read_by="worker",
    )
    turn_timeout_s: float = setting(
        "TURN_TIMEOUT_S",
        Seconds(),
        default=120.0,
        doc="whole-turn budget: a turn running longer is stopped with an error event",
        read_by="worker",
    )
    heartbeat_interval_s: float = setting(
        "TURN_HEARTBEAT_S",
        Seconds(),
        default=2.0,
        doc="how often a running turn and its worker prove they are alive; three missed "
        "heartbeats mean dead",
    )
    idle_poll_s: float = setting(
        "WORKER_IDLE_POLL_S",
        Seconds(),
        default=1.0,
        doc="longest an idle worker blocks on the queue before it looks up (to record its "
        "health, or to stop)",
        read_by="worker",
    )
    stream_coalesce_ms: int = setting(
        "STREAM_COALESCE_MS",
        Integer(minimum=0, maximum=1000),
        default=40,
        doc="after the first words of an answer, text deltas arriving within this window travel "
        "as one event, and other events (not the first words, not the end) wait up to this long "
        "to travel with the next (0: each alone, at once); 40 ms is 25 updates a second, finer "
        "than anyone reading can tell",
        read_by="worker",
    )
    drain_s: float = setting(
        "WORKER_DRAIN_S",
        Seconds(),
        default=30.0,
        doc="on SIGTERM, running turns get this long to finish before they are cancelled (new "
        "turns are left to other workers at once)",
        read_by="worker",
    )

    @property
    def liveness_ttl_s(self) -> float:
        """A worker (or a turn) silent for this long is taken for dead: three missed heartbeats."""
        return 3 * self.heartbeat_interval_s
