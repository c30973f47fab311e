"""Letting a turn in: a stream slot and, for turns that ask the model, one of today's messages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chatkit.types import StreamingReq, ThreadsCustomActionReq

from services.gateway.quotas.daily_messages import DailyMessageQuota
from services.gateway.turns.stream_slots import StreamLease, StreamLeases


def uses_a_message(parsed: StreamingReq) -> bool:
    """Widget button presses (custom actions) make no model call, so they are free."""
    return not isinstance(parsed, ThreadsCustomActionReq)


@asynccontextmanager
async def admit_turn(
    leases: StreamLeases,
    daily: DailyMessageQuota,
    parsed: StreamingReq,
    user_id: str,
    turn_id: str,
) -> AsyncIterator[StreamLease]:
    """Take a stream lease and count the message (429 when either is exhausted); both are given
    back if the block fails, so a turn that was never queued costs nothing."""
    lease = await leases.acquire(user_id, turn_id)
    counted = False
    try:
        if uses_a_message(parsed):
            await daily.take(user_id)
            counted = True
        yield lease
    except BaseException:
        await lease.release()
        if counted:
            await daily.give_back(user_id)
        raise
