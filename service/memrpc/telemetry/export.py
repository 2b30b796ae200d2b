"""Exporting trace spans to an OpenTelemetry collector over OTLP/gRPC.

`SpanExport.start` sets up, for `--otlp-endpoint`, a tracer provider whose
spans a `BatchSpanProcessor` sends from a thread of its own, in batches
(every `SCHEDULE_DELAY_MS` at most), so a call never waits for an export; a
collector that is down or slow costs dropped spans (the queue holds
`MAX_QUEUE_SPANS`), never a slower call. It installs the provider's tracer in
`tracing` (not as OpenTelemetry's global provider: a test process may start
several servers). `shutdown` sends what is queued, at the server's stop.

Sampling follows the caller: a call whose `traceparent` says "not sampled"
is not recorded; a call without one starts a sampled trace. The SDK's
`OTEL_*` environment variables apply (`OTEL_SERVICE_NAME`, default
`memrpc`; `OTEL_RESOURCE_ATTRIBUTES`; `OTEL_TRACES_SAMPLER`;
`OTEL_EXPORTER_OTLP_HEADERS`, ...).
"""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from memrpc.telemetry import tracing
from memrpc.version import VERSION

# Spans wait at most this long before they are sent.
SCHEDULE_DELAY_MS = 1000
# Spans queued for export at most; more are dropped.
MAX_QUEUE_SPANS = 8192
# How long one export may take, retries included: also the most a collector
# that is down delays the server's stop by.
EXPORT_TIMEOUT_S = 3.0


def _resource() -> Resource:
    """The service's name and version, unless `OTEL_*` variables name it."""
    resource = Resource.create({SERVICE_VERSION: VERSION})
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "memrpc"}))
    return resource


class SpanExport:
    """The spans of one server, exported to one collector."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider

    @classmethod
    def start(cls, endpoint: str | None) -> SpanExport | None:
        """Starts exporting to `endpoint` (`http://` plaintext or `https://`
        TLS) and installs the tracer; None (and no tracer) without one."""
        if endpoint is None:
            return None
        provider = TracerProvider(resource=_resource())
        exporter = OTLPSpanExporter(
            endpoint=endpoint,
            insecure=endpoint.startswith("http://"),
            timeout=EXPORT_TIMEOUT_S,
        )
        provider.add_span_processor(
            BatchSpanProcessor(
                exporter, max_queue_size=MAX_QUEUE_SPANS, schedule_delay_millis=SCHEDULE_DELAY_MS
            )
        )
        tracing.install(provider.get_tracer("memrpc"))
        return cls(provider)

    def shutdown(self) -> None:
        """Uninstalls the tracer and sends the spans still queued (blocks:
        run it in a thread)."""
        tracing.install(None)
        self._provider.shutdown()
