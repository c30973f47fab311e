"""Listens for turns whose client went away and cancels them if they run in this process."""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis

from services.agent.running_turns import RunningTurns
from shared.turns import keys

logger = logging.getLogger(__name__)

RECONNECT_DELAY_S = 1.0


async def listen_for_cancels(redis: Redis, running: RunningTurns) -> None:
    """Run until cancelled. Pub/sub is at-most-once, so a turn also checks its cancel mark when
    it starts; a cancel lost while running only means the turn runs to its end."""
    while True:
        try:
            async with redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(keys.TURN_CANCEL_CHANNEL)
                async for message in pubsub.listen():
                    turn_id = message["data"]
                    if isinstance(turn_id, bytes):
                        turn_id = turn_id.decode()
                    if running.cancel(turn_id):
                        logger.info("turn %s cancelled by its client", turn_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("cancel listener lost its Redis connection; reconnecting")
            await asyncio.sleep(RECONNECT_DELAY_S)
