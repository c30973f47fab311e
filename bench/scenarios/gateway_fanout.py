"""What each gateway receives from Redis as gateways are added, each relaying the same load.

A simulation in one process: 1, 2, 4 and 8 gateways (each the real `TurnEventNotifier` on its own
Redis connection, as in a gateway process) and a synthetic worker (the real `TurnEventWriter`)
answering `TURNS_PER_GATEWAY` turns for each gateway, `DELTAS` text deltas a turn, in batches of
`DELTAS_PER_FLUSH` (what a worker's flush carries). Two ways of publishing: `shared`, one channel
every gateway listens on (before per-gateway channels), and `own`, the channel of the gateway
relaying the turn (`Turn.news_channel`). Counted: the pub/sub messages and bytes each gateway's
notifier received, and Redis's own output bytes, per gateway. Flat from 1 to 8 gateways is the
target for `own`; `shared` grows with the number of gateways.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as redis_asyncio

from bench.scenarios.common import Context, Figure, ScenarioResult, at_most, reported
from services.gateway.turns.notifier import TurnEventNotifier
from shared.turns.event_log import TurnEventLog, TurnEventWriter

GATEWAYS = (1, 2, 4, 8)
TURNS_PER_GATEWAY = 25
DELTAS = 40
DELTAS_PER_FLUSH = 5
DELTA = b'{"type":"thread.item.updated","item_id":"msg_1","update":{"type":"assistant_message.content_part.text_delta","content_index":0,"delta":" word"}}'  # noqa: E501
FLAT_LIMIT = 1.2
"""`own`: what one of 8 gateways receives, at most this many times what a lone gateway does."""


class CountingNotifier(TurnEventNotifier):
    """A gateway's notifier that also counts what its subscription delivers."""

    def __init__(self, redis: redis_asyncio.Redis) -> None:
        super().__init__(redis)
        self.messages = 0
        self.bytes = 0

    def _dispatch(self, data: bytes) -> None:
        self.messages += 1
        self.bytes += len(data)
        super()._dispatch(data)


def run(ctx: Context) -> ScenarioResult:
    turns = 5 if ctx.quick else TURNS_PER_GATEWAY
    runs: dict[str, Any] = {}
    for mode in ("shared", "own"):
        for gateways in GATEWAYS:
            runs[f"{mode}_{gateways}"] = asyncio.run(
                _simulate(ctx.backends.redis_url, gateways, turns, own_channel=mode == "own")
            )
    lone, eight = runs["own_1"], runs[f"own_{GATEWAYS[-1]}"]
    growth = round(eight["bytes_per_gateway"] / lone["bytes_per_gateway"], 2)
    shared_growth = round(
        runs[f"shared_{GATEWAYS[-1]}"]["bytes_per_gateway"] / runs["shared_1"]["bytes_per_gateway"],
        2,
    )
    figures: list[Figure] = [
        *(reported(f"bytes received per gateway, {n} gateways",
                   runs[f"own_{n}"]["bytes_per_gateway"], "bytes",
                   baseline=runs[f"shared_{n}"]["bytes_per_gateway"])
          for n in GATEWAYS),
        at_most(f"per-gateway traffic, {GATEWAYS[-1]} gateways vs 1", growth, FLAT_LIMIT, "x",
                baseline=shared_growth),
        reported(f"Redis output per gateway, {GATEWAYS[-1]} gateways",
                 eight["redis_out_per_gateway"], "bytes",
                 baseline=runs[f"shared_{GATEWAYS[-1]}"]["redis_out_per_gateway"]),
    ]  # fmt: skip
    return ScenarioResult(
        scenario="gateway_fanout", description=__doc__ or "", figures=figures, runs=runs
    )


async def _simulate(redis_url: str, gateways: int, turns: int, *, own_channel: bool) -> Any:
    clients = [redis_asyncio.Redis.from_url(redis_url) for _ in range(gateways + 1)]
    worker_redis, gateway_redis = clients[0], clients[1:]
    notifiers = [CountingNotifier(r) for r in gateway_redis]
    listening = [asyncio.create_task(n.run()) for n in notifiers]
    try:
        await _until_subscribed(worker_redis, [n.channel for n in notifiers])
        out_before = await _redis_output_bytes(worker_redis)
        started = time.monotonic()
        log = TurnEventLog(worker_redis)
        answering = [
            _answer(log, f"g{g}-t{t}-{time.time_ns()}", notifiers[g], own_channel)
            for g in range(gateways)
            for t in range(turns)
        ]
        await asyncio.gather(*answering)
        await _until_received(notifiers, turns)
        wall_s = time.monotonic() - started
        out = await _redis_output_bytes(worker_redis) - out_before
    finally:
        for task in listening:
            task.cancel()
        await asyncio.gather(*listening, return_exceptions=True)
        for client in clients:
            await client.aclose()
    return {
        "gateways": gateways,
        "turns": turns * gateways,
        "wall_s": round(wall_s, 3),
        "messages_per_gateway": round(sum(n.messages for n in notifiers) / gateways, 1),
        "bytes_per_gateway": round(sum(n.bytes for n in notifiers) / gateways),
        "redis_out_per_gateway": round(out / gateways),
    }


async def _answer(
    log: TurnEventLog, turn_id: str, gateway: TurnEventNotifier, own_channel: bool
) -> None:
    """One turn, its deltas written a flush at a time, as a worker streaming a fast model."""
    inbox = gateway.watch(turn_id)
    writer = TurnEventWriter(log, turn_id, channel=gateway.channel if own_channel else None)
    await writer.append("started")
    await writer.flush()
    for _ in range(DELTAS // DELTAS_PER_FLUSH):
        for _ in range(DELTAS_PER_FLUSH):
            await writer.append("event", DELTA)
        await writer.flush()
    await writer.append("end")
    await writer.flush()
    del inbox  # the relay's mailbox: the gateway only routes to it


async def _until_subscribed(redis: redis_asyncio.Redis, channels: list[str]) -> None:
    for _ in range(200):
        counts = dict(await redis.pubsub_numsub(*channels))
        if all(counts.get(c.encode(), 0) >= 1 for c in channels):
            return
        await asyncio.sleep(0.02)
    raise RuntimeError("the gateways did not subscribe")


async def _until_received(notifiers: list[CountingNotifier], turns: int) -> None:
    """Until each gateway heard at least its own turns' flushes (pub/sub is asynchronous)."""
    flushes = turns * (DELTAS // DELTAS_PER_FLUSH + 2)
    for _ in range(500):
        if all(n.messages >= flushes for n in notifiers):
            await asyncio.sleep(0.1)  # and anything still on its way
            return
        await asyncio.sleep(0.02)


async def _redis_output_bytes(redis: redis_asyncio.Redis) -> int:
    stats: dict[str, Any] = await redis.info("stats")
    return int(stats["total_net_output_bytes"])
