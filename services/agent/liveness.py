"""The worker's own heartbeat in the registry of live workers (see `shared.workers.registry`).

It beats from a thread of its own, on a Redis connection of its own, not from the event loop. A
worker whose loop is busy (hundreds of turns streaming on a starved CPU) is slow, not dead: its
turns' heartbeats come late, and the gateways, before they give up on a silent turn, ask the
registry whether its worker still beats (`services.gateway.turns.relay`). A thread gets the
interpreter within milliseconds however busy the loop is, so the answer stays true; a process
that dies or hangs whole stops beating, and its turns are reported lost as before.

The same thread keeps what the running turns hold (`shared.turns.holds`): their threads' locks,
which lapse with the worker's registry entry, and their stream slots. Renewed from the event loop,
a lock lapsed whenever the loop fell a few beats behind, and a second turn could start on a thread
whose first was still answering.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time

import redis
from redis.exceptions import RedisError

from services.agent.running_turns import RunningTurns
from shared.db.pool import DbPool
from shared.turns.holds import HoldRenewals, Renewal
from shared.workers.registry import WorkerStatus, queue_beat, queue_removal

log = logging.getLogger(__name__)


class WorkerHeartbeat:
    """Announces this worker every `interval_s` from `start` until `stop`, then withdraws it;
    after `drain`, as a worker that finishes its turns but takes no new ones. Each beat also
    renews the running turns' thread locks for `registry_ttl_s` (they lapse when the worker
    would be taken for dead) and, every third of a lease, their stream slots for `slot_lease_s`.

    A failed beat (Redis restarting) is logged and retried at the next interval: the worker keeps
    running its turns, and reappears in the registry as soon as Redis answers again.
    """

    def __init__(
        self,
        redis_url: str,
        worker_id: str,
        running: RunningTurns,
        *,
        registry_ttl_s: float,
        max_turns: int,
        interval_s: float,
        slot_lease_s: float,
        pool: DbPool | None = None,
    ) -> None:
        self.worker_id = worker_id
        self._redis_url = redis_url
        self._running = running
        self._registry_ttl_s = registry_ttl_s
        self._max_turns = max_turns
        self._interval_s = interval_s
        self._slot_lease_s = slot_lease_s
        self._slot_due: dict[str, float] = {}
        """When each running turn's slot is next renewed (epoch seconds)."""
        self._pool = pool
        self._stopping = threading.Event()
        self._beat_now = threading.Event()
        self._draining = False
        self._thread = threading.Thread(target=self._beat_until_stopped, name="worker-heartbeat")
        self._thread.daemon = True  # never keeps a dying process alive
        self._started_at = time.time()
        self._host, self._pid = socket.gethostname(), os.getpid()

    def start(self) -> None:
        self._thread.start()

    def drain(self) -> None:
        """From the next beat on (at once), beat as a worker that takes no new turns but is alive
        for the ones it runs (`DRAINING_WORKERS`); does not wait."""
        self._draining = True
        self._beat_now.set()

    def stop(self) -> None:
        """Withdraw from the registry (at once; the thread does it); does not wait."""
        self._stopping.set()
        self._beat_now.set()

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)

    def _beat_until_stopped(self) -> None:
        # A short socket timeout: a beat stuck on a dead connection must not outlast the next.
        client = redis.Redis.from_url(
            self._redis_url,
            socket_timeout=self._interval_s,
            socket_connect_timeout=self._interval_s,
        )
        holds = HoldRenewals(client, lock_ttl_s=self._registry_ttl_s)
        try:
            while not self._stopping.is_set():
                try:
                    with client.pipeline(transaction=False) as pipe:
                        queue_beat(
                            pipe, self._status(), self._registry_ttl_s, draining=self._draining
                        )
                        pipe.execute()
                    self._renew_holds(holds)
                except (RedisError, OSError) as exc:
                    log.warning("worker heartbeat failed (%s); retrying", exc)
                self._beat_now.wait(self._interval_s)
                self._beat_now.clear()
            # A worker that cannot withdraw (Redis down) expires from the registry on its own.
            with contextlib.suppress(RedisError, OSError), client.pipeline() as pipe:
                queue_removal(pipe, self.worker_id)
                pipe.execute()
        finally:
            client.close()

    def _renew_holds(self, holds: HoldRenewals) -> None:
        now, every_s = time.time(), self._slot_lease_s / 3
        renewals: list[Renewal] = []
        slot_due: dict[str, float] = {}
        # The admission took each lock for the start timeout plus the liveness TTL, so a turn
        # needs no renewal in its first beat (most turns are shorter: none at all).
        for turn in self._running.turns(started_before=now - self._interval_s):
            # The slot was leased at the turn's admission, about when it was queued.
            due = self._slot_due.get(turn.turn_id, turn.enqueued_at_ms / 1000 + every_s)
            renew_slot = now >= due
            slot_due[turn.turn_id] = now + every_s if renew_slot else due
            lease_s = self._slot_lease_s if renew_slot else None
            renewals.append(Renewal(turn.turn_id, turn.user_id, turn.thread_id, lease_s))
        for turn_id in holds.renew(renewals):
            log.warning("turn %s no longer holds its thread's lock", turn_id)
        self._slot_due = slot_due  # only once renewed; ended turns are forgotten

    def _status(self) -> WorkerStatus:
        count, oldest = self._running.snapshot()
        pool = self._pool
        return WorkerStatus(
            worker_id=self.worker_id,
            host=self._host,
            pid=self._pid,
            started_at=self._started_at,
            running_turns=count,
            max_turns=self._max_turns,
            beat_at=time.time(),
            oldest_turn_id=oldest[0] if oldest else None,
            oldest_turn_started_at=oldest[1] if oldest else None,
            db_connections=pool.get_size() if pool else 0,
            db_pool_max=pool.get_max_size() if pool else 0,
        )
