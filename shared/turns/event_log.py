"""A turn's events as a Redis Stream: the worker appends, the gateway reads.

Pub/sub would lose anything published before the gateway subscribed or during a reconnect; a stream
keeps every event in order, so a reader can start late, resume after a blip, or replay from `0`.
Each append is also published, entries included, on the pub/sub channel of the gateway relaying
the turn (named in the turn): a gateway hears about all its open streams on a single connection,
receives no other gateway's, and relays what it hears without reading it back; it reads the
stream only to start, to fill a gap, or after a silence.

One append is one stream entry, however many events it carries (field `e`: one `TurnEvent`;
field `b`: several, in order): a flush costs one XADD and one PUBLISH.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.messages import (
    TurnEvent,
    TurnEventKind,
    decode_event,
    decode_events,
    encode_event,
    encode_events,
    encode_news,
)
from shared.turns.text_deltas import TextDelta, encode_text_delta

FIELD = b"e"
"""The field of an entry holding one event."""
BATCH_FIELD = b"b"
"""The field of an entry holding several events (a msgpack array)."""
START = "0-0"
URGENT: frozenset[TurnEventKind] = frozenset({"started", "end"})
"""Entries a `TurnEventWriter` writes at once (see there)."""


@dataclass(frozen=True, slots=True)
class LogPage:
    events: list[tuple[str, TurnEvent]]
    """(entry id, event), in order; the events of one entry share its id."""
    full: bool
    """The read stopped at its count: there may be more."""


class TurnEventLog:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def append(self, turn_id: str, event: TurnEvent) -> None:
        await self.append_many(turn_id, (event,))

    async def append_many(
        self,
        turn_id: str,
        events: Sequence[TurnEvent],
        *,
        expire_s: int | None = keys.EVENT_LOG_TTL_S,
        channel: str | None = None,
    ) -> None:
        """Append `events` in order as one entry, in one round trip, with one announcement on
        `channel` (default: the shared one); `expire_s` (None: leave it) sets the log's expiry
        (see `TurnEventWriter` for when it is set)."""
        key = keys.turn_events(turn_id)
        encoded = [encode_event(event) for event in events]
        fields = {FIELD: encoded[0]} if len(encoded) == 1 else {BATCH_FIELD: encode_events(encoded)}
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, fields, maxlen=keys.EVENT_LOG_MAX_LEN)  # type: ignore[arg-type]
            if expire_s is not None:
                pipe.expire(key, expire_s)
            pipe.publish(channel or keys.TURN_EVENTS_CHANNEL, encode_news(turn_id, encoded))
            await pipe.execute()

    async def read(
        self, turn_id: str, after: str, *, count: int = 256
    ) -> Sequence[tuple[str, TurnEvent]]:
        """Events after stream id `after` (none yet: an empty list, at once)."""
        return (await self.read_page(turn_id, after, count=count)).events

    async def read_page(self, turn_id: str, after: str, *, count: int = 256) -> LogPage:
        """The events of at most `count` entries after stream id `after`."""
        response = await self._redis.xread({keys.turn_events(turn_id): after}, count=count)
        if not response:
            return LogPage([], full=False)
        _, entries = response[0]
        events: list[tuple[str, TurnEvent]] = []
        for entry_id, fields in entries:
            entry = _as_str(entry_id)
            events.extend((entry, event) for event in entry_events(fields))
        return LogPage(events, full=len(entries) >= count)


def entry_events(fields: dict[bytes, bytes]) -> list[TurnEvent]:
    """The events of one stream entry (its fields as Redis returns them), in order."""
    single = fields.get(FIELD)
    return [decode_event(single)] if single is not None else decode_events(fields[BATCH_FIELD])


def _as_str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class TurnEventWriter:
    """One turn's producer: numbers its entries and appends them in order, few at a time.

    What is urgent goes out at once: the first words of each message part (`append_text_delta`),
    the turn's `started` and `end` (the gateway times the pickup, and the stream ends, on them),
    and whatever is queued when one of them is written. Anything else (heartbeats, chatkit's
    events around the answer) waits up to `linger_s` for company, so the events that come within
    a few milliseconds of each other (the user's message stored and the answer's start; the
    answer's end) travel as one entry: one XADD and one PUBLISH for Redis, one
    announcement for the gateway. Nothing waits longer than `linger_s`, and nothing is reordered.
    While a write is in flight, everything queued meanwhile goes with the next one. A failed
    write is raised by the next `append` or by `flush`.

    Text deltas: each one after the first of its part is held up to `coalesce_s`, and the deltas
    of the same part that arrive meanwhile join it, so they travel as one ChatKit event. Any
    other event, and `flush`, send the held delta first.

    The log's expiry is set once, by the first write, to `expire_s`: the longest the turn can
    live plus `keys.EVENT_LOG_TTL_S` (an EXPIRE per write would be a third of the commands a
    turn sends to Redis).
    """

    MAX_PENDING = 512
    """Beyond this many unwritten entries, `append` waits for the writes (back-pressure)."""

    def __init__(
        self,
        log: TurnEventLog,
        turn_id: str,
        *,
        channel: str | None = None,
        coalesce_s: float = 0.0,
        linger_s: float = 0.0,
        expire_s: int = keys.EVENT_LOG_TTL_S,
    ) -> None:
        self._log = log
        self._turn_id = turn_id
        self._channel = channel
        self._coalesce_s = coalesce_s
        self._linger_s = linger_s
        self._expire_s: int | None = expire_s
        self._seq = 0
        self._pending: list[TurnEvent] = []
        self._writing: asyncio.Task[None] | None = None
        self._linger_timer: asyncio.TimerHandle | None = None
        self._held: TextDelta | None = None
        self._held_parts: list[str] = []
        self._release_timer: asyncio.TimerHandle | None = None
        self._parts_started: set[tuple[str, int]] = set()

    async def append(self, kind: TurnEventKind, data: bytes = b"") -> None:
        self._release_held()
        self._queue(kind, data)
        if kind in URGENT or self._linger_s <= 0 or len(self._pending) >= self.MAX_PENDING:
            await self._write_soon()
        else:
            self._linger()

    async def append_text_delta(self, delta: TextDelta) -> None:
        """Append a text delta, merged with the ones around it (see the class)."""
        held = self._held
        if held is not None and held.continues(delta.item_id, delta.content_index):
            self._held_parts.append(delta.delta)
            return
        self._release_held()
        part = (delta.item_id, delta.content_index)
        if self._coalesce_s <= 0 or part not in self._parts_started:
            self._parts_started.add(part)  # the first words show at once
            self._queue("event", encode_text_delta(*part, delta.delta))
            await self._write_soon()
            return
        self._held, self._held_parts = delta, [delta.delta]
        self._release_timer = asyncio.get_running_loop().call_later(
            self._coalesce_s, self._release_held_now
        )

    async def flush(self) -> None:
        """Wait until every appended entry is written."""
        self._release_held()
        self._start_writing()
        while self._writing is not None:
            writing = self._writing
            await writing
            if self._writing is writing:
                self._writing = None

    def _queue(self, kind: TurnEventKind, data: bytes) -> None:
        self._seq += 1
        self._pending.append(TurnEvent(seq=self._seq, kind=kind, data=data))

    def _linger(self) -> None:
        """Write what is pending within `linger_s`, unless something urgent takes it first."""
        if self._writing is not None and not self._writing.done():
            return  # the write in flight takes it next
        if self._linger_timer is None:
            self._linger_timer = asyncio.get_running_loop().call_later(
                self._linger_s, self._linger_over
            )

    def _linger_over(self) -> None:
        self._linger_timer = None
        self._start_writing()

    def _release_held(self) -> None:
        """Queue the held delta (with what joined it) after everything queued before it."""
        held = self._held
        if held is None:
            return
        if self._release_timer is not None:
            self._release_timer.cancel()
            self._release_timer = None
        text = held.delta if len(self._held_parts) == 1 else "".join(self._held_parts)
        self._held, self._held_parts = None, []
        self._queue("event", encode_text_delta(held.item_id, held.content_index, text))

    def _release_held_now(self) -> None:
        """The window is over: the held delta goes out."""
        self._release_timer = None
        self._release_held()
        self._start_writing()

    def _start_writing(self) -> None:
        if self._writing is not None and self._writing.done():
            if self._writing.exception() is not None:
                return  # raised by the next `append` or `flush`
            self._writing = None
        if self._writing is None and self._pending:
            self._writing = asyncio.create_task(self._write_pending())

    async def _write_soon(self) -> None:
        if self._writing is not None and self._writing.done():
            self._writing.result()  # raises the failure of the previous write
            self._writing = None
        if self._writing is None:
            self._writing = asyncio.create_task(self._write_pending())
        elif len(self._pending) >= self.MAX_PENDING:
            await self.flush()

    async def _write_pending(self) -> None:
        if self._linger_timer is not None:  # this write takes what was lingering
            self._linger_timer.cancel()
            self._linger_timer = None
        while self._pending:
            batch, self._pending = self._pending, []
            await self._log.append_many(
                self._turn_id, batch, expire_s=self._expire_s, channel=self._channel
            )
            self._expire_s = None
