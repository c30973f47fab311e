"""Wire formats between gateway and worker (msgspec, so both sides agree on one schema)."""

from __future__ import annotations

from typing import Literal

import msgspec


class Turn(msgspec.Struct, frozen=True, kw_only=True):
    """A streaming ChatKit request waiting for a worker."""

    turn_id: str
    user_id: str
    request: bytes
    """The ChatKit request body as the browser sent it (already validated by the gateway)."""
    enqueued_at_ms: int
    thread_id: str | None = None
    """The thread the request continues (None for `threads.create`): its turn lock's name."""
    traceparent: str | None = None
    """W3C trace context of the gateway's span, so the worker's span joins the same trace (None
    without tracing; the default keeps messages from before this field decodable)."""
    news_channel: str | None = None
    """The pub/sub channel of the gateway relaying the turn: its worker publishes the turn's
    entries there, so no other gateway receives them (None: the shared `TURN_EVENTS_CHANNEL`,
    as gateways before per-gateway channels expect)."""
    thread_data: str | None = None
    """The thread's metadata (its stored JSON) as the gateway read it to check the request, so
    the worker need not read it again (None: not read, or a message from before this field)."""


TurnEventKind = Literal["started", "event", "heartbeat", "end"]


class TurnEvent(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One entry of a turn's event log.

    `event` carries one ChatKit `ThreadStreamEvent` as JSON; `started` (with the worker's id as
    its data, empty from workers before that) and `heartbeat` prove a worker holds the turn; `end`
    is the last entry of every turn, written even when the turn failed, with `CANCELLED_END` as its
    data when the turn was cancelled.
    """

    seq: int
    kind: TurnEventKind
    data: bytes = b""


CANCELLED_END = b"cancelled"
"""The data of the `end` entry of a cancelled turn (an `end` of any other turn has none), so
whoever relays or re-joins it can tell "stopped" from "finished"."""


class TurnNews(msgspec.Struct, frozen=True, array_like=True):
    """What a worker publishes after each append to a turn's log: the entries themselves, so the
    gateway relaying the turn passes them on without reading them back from the log."""

    turn_id: str
    events: list[TurnEvent]


class _TurnNewsOut(msgspec.Struct, frozen=True, array_like=True):
    """`TurnNews` on the way out, built from entries already encoded for the log (one encoding
    per entry, not two). Same wire format."""

    turn_id: str
    events: list[msgspec.Raw]


_turn_encoder = msgspec.msgpack.Encoder()
_turn_decoder = msgspec.msgpack.Decoder(Turn)
_event_decoder = msgspec.msgpack.Decoder(TurnEvent)


def encode_turn(turn: Turn) -> bytes:
    return _turn_encoder.encode(turn)


def decode_turn(raw: bytes) -> Turn:
    return _turn_decoder.decode(raw)


def encode_event(event: TurnEvent) -> bytes:
    return _turn_encoder.encode(event)


def decode_event(raw: bytes) -> TurnEvent:
    return _event_decoder.decode(raw)


_news_decoder = msgspec.msgpack.Decoder(TurnNews)
_events_decoder = msgspec.msgpack.Decoder(list[TurnEvent])


def encode_events(encoded_events: list[bytes]) -> bytes:
    """Several entries encoded with `encode_event`, as one msgpack array (one log entry)."""
    return _turn_encoder.encode([msgspec.Raw(e) for e in encoded_events])


def decode_events(raw: bytes) -> list[TurnEvent]:
    return _events_decoder.decode(raw)


def encode_news(turn_id: str, encoded_events: list[bytes]) -> bytes:
    """`TurnNews` of entries encoded with `encode_event`."""
    return _turn_encoder.encode(_TurnNewsOut(turn_id, [msgspec.Raw(e) for e in encoded_events]))


def decode_news(raw: bytes) -> TurnNews:
    """Raises `msgspec.DecodeError` for anything else (an older worker's bare turn id)."""
    return _news_decoder.decode(raw)
