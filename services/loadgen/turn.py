"""One turn as a ChatKit client sees it: POST, read the SSE stream to its end, check the events."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import msgspec

from services.chatkit_client.sse import SseParser
from services.loadgen.http import Connection, ProtocolError


class TurnSample(msgspec.Struct):
    started_s: float
    """When the request was sent, on the load's clock (seconds from its start)."""
    ttft_ms: float | None = None
    """Request sent to the first text delta of the answer."""
    turn_ms: float = 0.0
    """Request sent to the end of the stream."""
    events: int = 0
    sse_bytes: int = 0
    """Bytes of the events' data as the client received them."""
    gaps_ms: list[float] = msgspec.field(default_factory=list)
    """Time between consecutive events of the stream."""
    thread_id: str | None = None
    turn_id: str | None = None
    """The gateway's id for the turn (its `X-Turn-Id` header; the single process sends none)."""
    error: str | None = None
    """What went wrong, by kind (None: a complete, valid answer)."""


class InvalidStream(Exception):
    """The stream ended without what every answer must have."""


def is_text_delta(event: dict[str, Any]) -> bool:
    update = event.get("update")
    return (
        event.get("type") == "thread.item.updated"
        and isinstance(update, dict)
        and str(update.get("type", "")).endswith("text_delta")
    )


class _Checks:
    """What a complete answer shows: for a new thread `thread.created` first; an assistant
    message that ends (`thread.item.done`); no error event."""

    def __init__(self, creates_thread: bool) -> None:
        self.creates_thread = creates_thread
        self.first = True
        self.answered = False
        self.thread_id: str | None = None

    def see(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if self.first and self.creates_thread and kind != "thread.created":
            raise InvalidStream(f"first event is {kind}, not thread.created")
        self.first = False
        if kind == "thread.created":
            self.thread_id = event["thread"]["id"]
        elif kind == "error":
            raise InvalidStream(f"error event ({str(event.get('message', ''))[:60]})")
        elif kind == "thread.item.done" and event["item"].get("type") == "assistant_message":
            self.answered = True

    def finish(self) -> None:
        if not self.answered:
            raise InvalidStream("no finished assistant message")


TEXT_DELTA_PREFIX = '{"type":"thread.item.updated"'


async def run_turn(
    connection: Connection,
    token: str,
    request: dict[str, Any],
    clock_zero: float,
    *,
    timeout_s: float = 300.0,
    parse_deltas: bool = True,
) -> TurnSample:
    """One turn on `connection` (a user's own: turns of one user follow each other). With
    `parse_deltas` off, text deltas (most of a long answer) are recognised by their first bytes
    instead of parsed, so the load generator can keep up with a fast relay; every other event is
    still parsed and checked."""
    sent = time.perf_counter()
    sample = TurnSample(started_s=sent - clock_zero)
    checks = _Checks(creates_thread=request["type"] == "threads.create")
    parser = SseParser()
    last = sent
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    try:
        async with asyncio.timeout(timeout_s):
            response = await connection.post("/chatkit", json.dumps(request).encode(), headers)
            sample.turn_id = response.headers.get("x-turn-id")
            if response.status != 200:
                await response.read()
                sample.error = f"http {response.status}"
                return sample
            async for line in response.lines():
                data = parser.feed(line)
                if data is None:
                    continue
                now = time.perf_counter()
                sample.events += 1
                sample.sse_bytes += len(data)
                sample.gaps_ms.append((now - last) * 1000)
                last = now
                if not parse_deltas and data.startswith(TEXT_DELTA_PREFIX):
                    if sample.ttft_ms is None and "text_delta" in data:
                        sample.ttft_ms = (now - sent) * 1000
                    continue
                event = json.loads(data)
                if sample.ttft_ms is None and is_text_delta(event):
                    sample.ttft_ms = (now - sent) * 1000
                checks.see(event)
        checks.finish()
    except InvalidStream as exc:
        sample.error = f"invalid stream: {exc}"
    except TimeoutError:
        sample.error = "timeout"
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ProtocolError) as exc:
        sample.error = f"connection: {type(exc).__name__}"
    except (KeyError, TypeError, ValueError):  # JSON and UTF-8 errors are ValueErrors
        sample.error = "invalid stream: malformed event"
    finally:
        sample.turn_ms = (time.perf_counter() - sent) * 1000
        sample.thread_id = checks.thread_id
    return sample
