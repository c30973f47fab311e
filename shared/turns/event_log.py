"""A turn's events as a Redis Stream: the worker appends, the gateway reads.

Pub/sub would lose anything published before the gateway subscribed or during a reconnect; a stream
keeps every event in order, so a reader can start late, resume after a blip, or replay from `0`.
Each append is also published, entries included, on one pub/sub channel: a gateway hears about
all its open streams on a single connection, and relays what it hears without reading it back;
it reads the stream only to start, to fill a gap, or after a silence.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.messages import (
    TurnEvent,
    TurnEventKind,
    decode_event,
    encode_event,
    encode_news,
)

FIELD = b"e"
START = "0-0"


class TurnEventLog:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def append(self, turn_id: str, event: TurnEvent) -> None:
        await self.append_many(turn_id, (event,))

    async def append_many(
        self, turn_id: str, events: Sequence[TurnEvent], *, refresh_ttl: bool = True
    ) -> None:
        """Append `events` in order, in one round trip, with one announcement; `refresh_ttl`
        restarts the log's expiry (see `TurnEventWriter` for when it may be skipped)."""
        key = keys.turn_events(turn_id)
        encoded = [encode_event(event) for event in events]
        async with self._redis.pipeline(transaction=False) as pipe:
            for entry in encoded:
                pipe.xadd(key, {FIELD: entry}, maxlen=keys.EVENT_LOG_MAX_LEN)
            if refresh_ttl:
                pipe.expire(key, keys.EVENT_LOG_TTL_S)
            pipe.publish(keys.TURN_EVENTS_CHANNEL, encode_news(turn_id, encoded))
            await pipe.execute()

    async def read(
        self, turn_id: str, after: str, *, count: int = 256
    ) -> Sequence[tuple[str, TurnEvent]]:
        """Entries after stream id `after` (none yet: an empty list, at once)."""
        response = await self._redis.xread({keys.turn_events(turn_id): after}, count=count)
        if not response:
            return []
        _, entries = response[0]
        return [(_as_str(entry_id), decode_event(fields[FIELD])) for entry_id, fields in entries]


def _as_str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class TurnEventWriter:
    """One turn's producer: numbers its entries and appends them in order, batching the ones that
    arrive while a write is in flight.

    The first event goes out at once; during a burst (a fast model, many deltas) the next write
    carries everything queued meanwhile, so Redis sees one round trip and the gateways one
    announcement per batch instead of per delta. A failed write is raised by the next `append`
    or by `flush`.

    The log's expiry is restarted by the first write, by the one carrying `end`, and otherwise at
    most every `TTL_REFRESH_S`, not by every write: an EXPIRE per delta would be a third of the
    commands a turn sends to Redis. A log whose worker died still lives at least
    `EVENT_LOG_TTL_S - TTL_REFRESH_S` after its last entry.
    """

    TTL_REFRESH_S = 30.0

    MAX_PENDING = 512
    """Beyond this many unwritten entries, `append` waits for the writes (back-pressure)."""

    def __init__(self, log: TurnEventLog, turn_id: str) -> None:
        self._log = log
        self._turn_id = turn_id
        self._seq = 0
        self._pending: list[TurnEvent] = []
        self._writing: asyncio.Task[None] | None = None
        self._ttl_refreshed_at: float | None = None

    async def append(self, kind: TurnEventKind, data: bytes = b"") -> None:
        self._seq += 1
        self._pending.append(TurnEvent(seq=self._seq, kind=kind, data=data))
        if self._writing is not None and self._writing.done():
            self._writing.result()  # raises the failure of the previous write
            self._writing = None
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_pending())
        elif len(self._pending) >= self.MAX_PENDING:
            await self.flush()

    async def flush(self) -> None:
        """Wait until every appended entry is written."""
        while self._writing is not None:
            writing = self._writing
            await writing
            if self._writing is writing:
                self._writing = None

    async def _write_pending(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            now = time.monotonic()
            refresh = (
                self._ttl_refreshed_at is None
                or now - self._ttl_refreshed_at >= self.TTL_REFRESH_S
                or batch[-1].kind == "end"
            )
            await self._log.append_many(self._turn_id, batch, refresh_ttl=refresh)
            if refresh:
                self._ttl_refreshed_at = now
