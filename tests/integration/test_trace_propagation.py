"""A turn's trace crosses gateway -> queue -> worker: the worker's span is a child of the
gateway's, carried by the `traceparent` in the Turn message through the real Redis queue."""

from __future__ import annotations

import time

import msgspec
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from redis.asyncio import Redis

from shared.observability.tracing import TurnTracing, build_tracing
from shared.settings import ObservabilitySettings
from shared.turns.messages import Turn, decode_turn
from shared.turns.queue import TurnQueue, pop_turn


def in_memory_tracing() -> tuple[TurnTracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TurnTracing(provider), exporter


async def test_worker_span_continues_the_gateway_trace(redis_url: str) -> None:
    gateway_tracing, gateway_spans = in_memory_tracing()
    worker_tracing, worker_spans = in_memory_tracing()  # another process: its own provider
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()
        with gateway_tracing.enqueueing("turn-1") as traceparent:
            sent = Turn(
                turn_id="turn-1",
                user_id="alice",
                request=b"{}",
                enqueued_at_ms=int(time.time() * 1000),
                traceparent=traceparent,
            )
            await TurnQueue(redis, turn_timeout_s=60).enqueue(sent)

        # What a worker gets: the turn, popped from the queue.
        popped = await pop_turn(redis, timeout_s=0.1)
        assert popped is not None
        received = decode_turn(popped)
        with worker_tracing.running(received):
            pass
    finally:
        await redis.flushdb()
        await redis.aclose()

    [enqueue] = gateway_spans.get_finished_spans()
    [run] = worker_spans.get_finished_spans()
    assert enqueue.kind == SpanKind.PRODUCER and run.kind == SpanKind.CONSUMER
    assert enqueue.context is not None and run.parent is not None
    assert run.context is not None and run.context.trace_id == enqueue.context.trace_id
    assert run.parent.span_id == enqueue.context.span_id
    assert run.attributes is not None and run.attributes["taskchat.turn_id"] == "turn-1"


def test_without_an_endpoint_nothing_is_traced_and_no_traceparent_is_sent() -> None:
    tracing = build_tracing(ObservabilitySettings(), "taskchat-gateway")
    assert not tracing.enabled
    with tracing.enqueueing("turn-2") as traceparent:
        assert traceparent is None


def test_an_endpoint_turns_tracing_on() -> None:
    settings = ObservabilitySettings(otlp_endpoint="http://127.0.0.1:1")
    tracing = build_tracing(settings, "taskchat-worker")
    try:
        assert tracing.enabled
    finally:
        tracing.shutdown()  # nothing was recorded, so nothing is sent


def test_turns_queued_before_tracing_existed_still_decode() -> None:
    # What an older gateway enqueued: the same message without the field.
    legacy = msgspec.msgpack.encode(
        {"turn_id": "t", "user_id": "u", "request": b"{}", "enqueued_at_ms": 1}
    )
    assert decode_turn(legacy) == Turn(turn_id="t", user_id="u", request=b"{}", enqueued_at_ms=1)
    assert decode_turn(legacy).traceparent is None
