"""Waking the relays of a gateway's open streams when their turns have news.

One pub/sub subscription per gateway process, whatever the number of open streams. A missed
announcement (pub/sub is at-most-once) costs latency, never events: relays also read on a timer,
and every relay is woken after a reconnect.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis

from shared.turns import keys

logger = logging.getLogger(__name__)

RECONNECT_DELAY_S = 0.5


class TurnEventNotifier:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._waiting: dict[str, asyncio.Event] = {}

    def watch(self, turn_id: str) -> asyncio.Event:
        """An event set whenever the turn's log may have grown; call `unwatch` when done."""
        event = asyncio.Event()
        self._waiting[turn_id] = event
        return event

    def unwatch(self, turn_id: str) -> None:
        self._waiting.pop(turn_id, None)

    async def run(self) -> None:
        """Listen until cancelled (started in the gateway's lifespan)."""
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(keys.TURN_EVENTS_CHANNEL)
                    # Anything announced while we were not subscribed: let every relay look.
                    for waiting in self._waiting.values():
                        waiting.set()
                    async for message in pubsub.listen():
                        turn_id = message["data"]
                        news = self._waiting.get(
                            turn_id.decode() if isinstance(turn_id, bytes) else turn_id
                        )
                        if news is not None:
                            news.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("turn event subscription lost; reconnecting")
                await asyncio.sleep(RECONNECT_DELAY_S)
