"""OpenTelemetry traces across gateway -> queue -> worker, on only when an OTLP endpoint is set.

The gateway opens a span around enqueueing a turn and puts its W3C `traceparent` in the Turn
message; the worker continues that trace with a span around running the turn. No global tracer
provider is installed: each process holds its own `TurnTracing`, built from settings at start-up
(tests pass a provider with an in-memory exporter). Without an endpoint, or without the `otel`
extra installed, every method is a no-op.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from shared.settings import ObservabilitySettings
from shared.turns.messages import Turn

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger(__name__)

TRACER_NAME = "taskchat"
TRACEPARENT = "traceparent"


class TurnTracing:
    def __init__(self, provider: TracerProvider | None) -> None:
        self._provider = provider

    @property
    def enabled(self) -> bool:
        return self._provider is not None

    @contextmanager
    def enqueueing(self, turn_id: str) -> Iterator[str | None]:
        """A producer span around queueing a turn; yields the `traceparent` to send with it."""
        if self._provider is None:
            yield None
            return
        from opentelemetry.trace import SpanKind, set_span_in_context
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        tracer = self._provider.get_tracer(TRACER_NAME)
        with tracer.start_as_current_span(
            "turn enqueue", kind=SpanKind.PRODUCER, attributes={"taskchat.turn_id": turn_id}
        ) as span:
            carrier: dict[str, str] = {}
            TraceContextTextMapPropagator().inject(carrier, context=set_span_in_context(span))
            yield carrier.get(TRACEPARENT)

    @contextmanager
    def running(self, turn: Turn) -> Iterator[None]:
        """A consumer span around running `turn`, a child of the gateway's span when it sent one."""
        if self._provider is None:
            yield
            return
        from opentelemetry.trace import SpanKind
        from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

        parent = (
            TraceContextTextMapPropagator().extract({TRACEPARENT: turn.traceparent})
            if turn.traceparent
            else None
        )
        wait_ms = max(0, int(time.time() * 1000) - turn.enqueued_at_ms)
        tracer = self._provider.get_tracer(TRACER_NAME)
        with tracer.start_as_current_span(
            "turn run",
            context=parent,
            kind=SpanKind.CONSUMER,
            attributes={"taskchat.turn_id": turn.turn_id, "taskchat.queue_wait_ms": wait_ms},
        ):
            yield

    def shutdown(self) -> None:
        """Flush the spans still buffered (process exit)."""
        if self._provider is not None:
            self._provider.shutdown()


def build_tracing(settings: ObservabilitySettings, default_service_name: str) -> TurnTracing:
    """Tracing exported over OTLP/HTTP to `OTEL_EXPORTER_OTLP_ENDPOINT`, or a no-op."""
    if settings.otlp_endpoint is None:
        return TurnTracing(None)
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        # Observability must not stop the service: say clearly what is missing and run on.
        logger.error(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed "
            "(pip install 'taskchat[otel]'); running without traces"
        )
        return TurnTracing(None)
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.service_name or default_service_name})
    )
    endpoint = settings.otlp_endpoint.rstrip("/") + "/v1/traces"
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    logger.info("exporting traces to %s", endpoint)
    return TurnTracing(provider)
