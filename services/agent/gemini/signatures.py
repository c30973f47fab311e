"""Thought signatures, kept per tool call id so every one goes back exactly as received.

The Agents SDK keeps `extra_content.google.thought_signature` only when the model name contains
"gemini", drops one that arrives on a trailing delta, and loses it across a client tool call (a
new turn, perhaps on another worker). Gemini 3 rejects a current-turn tool call sent back without
its signature, so we record each signature in Redis under its call id and put back any that is
missing from a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from redis.asyncio import Redis

from shared.turns.keys import PREFIX

SIGNATURE_TTL_S = 7 * 24 * 3600


def _key(call_id: str) -> str:
    return f"{PREFIX}:thought-signature:{call_id}"


class SignatureStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, signatures: Mapping[str, str]) -> None:
        if not signatures:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for call_id, signature in signatures.items():
                pipe.set(_key(call_id), signature.encode(), ex=SIGNATURE_TTL_S)
            await pipe.execute()

    async def load(self, call_ids: Sequence[str]) -> dict[str, str]:
        if not call_ids:
            return {}
        values = await self._redis.mget([_key(call_id) for call_id in call_ids])
        return {
            call_id: value.decode()
            for call_id, value in zip(call_ids, values, strict=True)
            if isinstance(value, bytes)
        }
