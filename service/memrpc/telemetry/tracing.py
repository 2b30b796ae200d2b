"""Trace spans of calls, and of the Redis commands and embeddings they make.

With `--otlp-endpoint` set, `export.start` installs a tracer here; without,
`tracer` stays None and every hook below costs one attribute test, so a
server that does not trace pays next to nothing per call.

One span is made per RPC, a server span named for the full method
(`rpc/correlation.py` makes it), with the caller's W3C trace context
(`traceparent`, `tracestate` metadata) as its parent. Under it, `child`
spans: one per Redis command (`store/redis_mux.py`; a script's is named
`EVALSHA <script>`) and one per embedding request (`embedding/batcher.py`).
A child span is made only when the span it would go under is recording, so
a call whose caller did not sample its trace makes none, and the commands
the server makes outside calls (health checks, the tail fan-out) make none.

Only the OpenTelemetry API is imported here (not gRPC): the store and the
embedder use it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

from opentelemetry import context, trace
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

# The tracer of the server, None when it does not trace.
tracer: trace.Tracer | None = None

Metadata = Sequence[tuple[str, str | bytes]]
_PROPAGATOR = TraceContextTextMapPropagator()


def install(new: trace.Tracer | None) -> None:
    """Makes `new` the tracer of every span (None: spans off)."""
    global tracer  # noqa: PLW0603 - one tracer per process, set at start-up
    tracer = new


class _MetadataGetter(Getter[Metadata]):
    """Reads the trace context headers from gRPC invocation metadata."""

    def get(self, carrier: Metadata, key: str) -> list[str] | None:
        values = [value for name, value in carrier if name == key and isinstance(value, str)]
        return values or None

    def keys(self, carrier: Metadata) -> list[str]:
        return [name for name, _ in carrier]


_GETTER = _MetadataGetter()


def remote_parent(metadata: Metadata | None) -> context.Context:
    """The context of the caller's span from the W3C `traceparent` and
    `tracestate` metadata of a call (an empty one if none or invalid)."""
    return _PROPAGATOR.extract(metadata or (), getter=_GETTER)


@contextlib.contextmanager
def child(name: str, attributes: Mapping[str, AttributeValue]) -> Iterator[None]:
    """A client span `name` under the current span while the block runs,
    if that span is recording; nothing otherwise."""
    if tracer is None or not trace.get_current_span().is_recording():
        yield
        return
    with tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=attributes):
        yield


def current_ids() -> tuple[str | None, str | None]:
    """The trace and span ids (hex) of the current span, if any."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return None, None
    return f"{span_context.trace_id:032x}", f"{span_context.span_id:016x}"
