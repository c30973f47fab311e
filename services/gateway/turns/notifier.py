"""Handing each open stream's relay the entries its turn's worker publishes.

One pub/sub subscription per gateway process, whatever the number of open streams, to a channel of
its own: the gateway names it in each turn it queues and the turn's worker publishes there, so a
gateway receives its own turns' entries and no other's (adding gateways does not multiply what
each receives). A re-join of a turn another gateway queued listens on that gateway's channel too,
for as long as it relays. Pub/sub is at-most-once, so what it delivers is a fast path, never the
only one: a relay reads the turn's log itself when it starts, when the entries it is handed skip a
number, after a silence, and after the subscription was lost (see `relay.py`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter

import msgspec
from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from shared.turns import keys
from shared.turns.messages import TurnEvent, decode_news

logger = logging.getLogger(__name__)

RECONNECT_DELAY_S = 0.5


class TurnInbox:
    """One relay's mailbox: entries published for its turn since it last looked, and whether it
    must read the log to be sure it has everything."""

    MAX_BUFFERED = 1024
    """Entries held for a relay that has not taken them (its client reads slowly). Past this the
    mailbox drops them and sends the relay to the log, which it reads a page at a time: a slow
    client costs the gateway a bounded amount of memory."""

    def __init__(self) -> None:
        self._ready = asyncio.Event()
        self._events: list[TurnEvent] = []
        self.read_log = True
        """Read the turn's log before trusting the mailbox: true at first (entries may predate
        the subscription) and whenever something may have been missed."""

    def deliver(self, events: list[TurnEvent]) -> None:
        if len(self._events) + len(events) > self.MAX_BUFFERED:
            self._events.clear()  # all of them are in the log: each was logged, then published
            self.read_log = True
        else:
            self._events.extend(events)
        self._ready.set()

    @property
    def buffered(self) -> int:
        return len(self._events)

    def missed(self) -> None:
        """Something may not have been delivered: the relay should read the log."""
        self.read_log = True
        self._ready.set()

    def take(self) -> list[TurnEvent]:
        """The entries delivered so far, in the order published; empties the mailbox."""
        events, self._events = self._events, []
        self._ready.clear()
        return events

    async def wait(self, timeout_s: float) -> bool:
        """Wait for a delivery (or `missed`); False when `timeout_s` passed without one."""
        if self._ready.is_set():
            return True
        try:
            async with asyncio.timeout(timeout_s):  # no extra task, unlike `wait_for`
                await self._ready.wait()
        except TimeoutError:
            return False
        return True


class TurnEventNotifier:
    def __init__(self, redis: Redis, *, channel: str | None = None) -> None:
        self._redis = redis
        self.channel = channel or keys.gateway_news_channel(uuid.uuid4().hex)
        """This gateway's channel: name it in every turn it queues (`Turn.news_channel`)."""
        self._inboxes: dict[str, TurnInbox] = {}
        self._borrowed_by_turn: dict[str, str] = {}
        self._borrowed: Counter[str] = Counter()
        """Other gateways' channels listened to for re-joins, with how many use each."""
        self._pubsub: PubSub | None = None
        self._changes: set[asyncio.Task[None]] = set()
        """Unsubscriptions under way (held so they are not garbage-collected midway)."""

    def watch(self, turn_id: str) -> TurnInbox:
        """The mailbox of the turn's entries from now on; call `unwatch` when done."""
        inbox = TurnInbox()
        self._inboxes[turn_id] = inbox
        return inbox

    async def watch_channel(self, turn_id: str, channel: str | None) -> None:
        """Listen on `channel` too while `turn_id` is watched: the channel its worker publishes
        to, when another gateway queued it (None, or this gateway's: nothing to do)."""
        if channel is None or channel in (self.channel, keys.TURN_EVENTS_CHANNEL):
            return
        self._borrowed_by_turn[turn_id] = channel
        self._borrowed[channel] += 1
        pubsub = self._pubsub
        if self._borrowed[channel] == 1 and pubsub is not None:
            await pubsub.subscribe(channel)  # (a reconnect subscribes to it in `run`)

    def unwatch(self, turn_id: str) -> None:
        self._inboxes.pop(turn_id, None)
        channel = self._borrowed_by_turn.pop(turn_id, None)
        if channel is None:
            return
        self._borrowed[channel] -= 1
        if self._borrowed[channel] == 0:
            del self._borrowed[channel]
            pubsub = self._pubsub
            if pubsub is not None:
                change = asyncio.create_task(_unsubscribe(pubsub, channel))
                self._changes.add(change)
                change.add_done_callback(self._changes.discard)

    async def run(self) -> None:
        """Listen until cancelled (started in the gateway's lifespan)."""
        while True:
            try:
                async with self._redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    # Its own channel, the shared one (workers from before per-gateway channels
                    # publish there), and the ones borrowed for re-joins.
                    await pubsub.subscribe(self.channel, keys.TURN_EVENTS_CHANNEL, *self._borrowed)
                    self._pubsub = pubsub
                    # Anything published while we were not subscribed: let every relay look.
                    for inbox in self._inboxes.values():
                        inbox.missed()
                    async for message in pubsub.listen():
                        self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("turn event subscription lost; reconnecting")
                await asyncio.sleep(RECONNECT_DELAY_S)
            finally:
                self._pubsub = None

    def _dispatch(self, data: bytes) -> None:
        try:
            news = decode_news(data)
        except msgspec.DecodeError:
            # A bare turn id, as workers before `TurnNews` announced: that relay reads its log.
            inbox = self._inboxes.get(data.decode(errors="replace"))
            if inbox is not None:
                inbox.missed()
            return
        inbox = self._inboxes.get(news.turn_id)
        if inbox is not None:
            inbox.deliver(news.events)


async def _unsubscribe(pubsub: PubSub, channel: str) -> None:
    try:
        await pubsub.unsubscribe(channel)
    except Exception as exc:  # the connection is gone: a reconnect will not resubscribe to it
        logger.debug("could not unsubscribe from %s: %s", channel, exc)
