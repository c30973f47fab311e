"""A turn's events as a Redis Stream: the worker appends, the gateway reads.

Pub/sub would lose anything published before the gateway subscribed or during a reconnect; a stream
keeps every event in order, so a reader can start late, resume after a blip, or replay from `0`.
Each append is also announced on one pub/sub channel, so a gateway waits for news of all its open
streams on a single connection instead of holding a blocked connection per stream.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis

from shared.turns import keys
from shared.turns.messages import TurnEvent, decode_event, encode_event

FIELD = b"e"
START = "0-0"


class TurnEventLog:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def append(self, turn_id: str, event: TurnEvent) -> None:
        key = keys.turn_events(turn_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.xadd(key, {FIELD: encode_event(event)}, maxlen=keys.EVENT_LOG_MAX_LEN)
            pipe.expire(key, keys.EVENT_LOG_TTL_S)
            pipe.publish(keys.TURN_EVENTS_CHANNEL, turn_id.encode())
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
