"""Thought signatures, kept per thread so every one goes back exactly as received, and only
into the conversation it came from.

The Agents SDK keeps `extra_content.google.thought_signature` only when the model name contains
"gemini", drops one that arrives on a trailing delta, and loses it across a client tool call (a
new turn, perhaps on another worker). Gemini 3 rejects a current-turn tool call sent back without
its signature, so we record each signature in Redis and put back any that is missing from a
request.

Gemini 3's tool call ids are short and unique only within one conversation (`call_4162774`), so
a call id alone names nothing: signatures live in one Redis hash per thread (and user), and a
request is only ever filled from the hash of the thread it belongs to. Within the hash a
signature is filed under its call's id, name and arguments (`call_key`): a thread longer than the
history window can see an id again, for another call. A model call made outside a thread (a
title) has no scope, and neither saves nor loads signatures.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from shared.turns.keys import PREFIX

SIGNATURE_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True, slots=True)
class SignatureScope:
    """The conversation a model call belongs to: the only place its signatures are kept."""

    user_id: str
    thread_id: str

    def key(self) -> str:
        # The thread id is ours (no ':'), so putting it first keeps any user id unambiguous.
        return f"{PREFIX}:thought-signatures:{self.thread_id}:{self.user_id}"


def call_key(call_id: str, name: str, arguments: str) -> str:
    """Where a call's signature is filed in its thread's hash."""
    try:
        canonical = json.dumps(json.loads(arguments), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = arguments
    digest = hashlib.sha256(f"{name}\x00{canonical}".encode()).hexdigest()[:24]
    return f"{call_id}:{digest}"


class SignatureStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, scope: SignatureScope, signatures: Mapping[str, str]) -> None:
        """File `signatures` (keyed by `call_key`) in `scope`'s thread."""
        if not signatures:
            return
        key = scope.key()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={call: sig.encode() for call, sig in signatures.items()})
            pipe.expire(key, SIGNATURE_TTL_S)
            await pipe.execute()

    async def load(self, scope: SignatureScope, call_keys: Sequence[str]) -> dict[str, str]:
        """The signatures filed under `call_keys` (from `call_key`) in `scope`'s thread."""
        if not call_keys:
            return {}
        values: list[object] = await self._redis.hmget(scope.key(), list(call_keys))  # type: ignore[misc]
        return {
            key: value.decode()
            for key, value in zip(call_keys, values, strict=True)
            if isinstance(value, bytes)
        }
