"""Correlation ids, spans and access logs: one id per call, in the caller's
response and in every log line about the call.

A call's id is the `x-request-id` metadata it carries, when that is 1 to
`MAX_CORRELATION_ID_CHARS` visible ASCII characters (no spaces); otherwise
(absent, too long, or not such text) a new one, 32 hex digits (a uuid4). A
proxy or the caller sets it and passes it on, so that one id follows a
request across services. It is not the `request_id` field of mutating
requests, which makes a retried write idempotent: this one only ties log
lines together, and a retry may carry the same one.

`CorrelationInterceptor`, the first of the server's interceptors, keeps the
id in a context variable for the call's task, in which gRPC runs the other
interceptors and the servicer too; `stamp_log_records` makes every log
record carry it as `record.request_id` (None outside calls), so the lines of
an authentication refusal, of a servicer and of an internal-error incident
all name it, and `LogFormatter` ends such lines with ` request_id=<id>`.
The id goes back in the response's trailing metadata, a failed call's too
(`ApiError.to_status` adds it to the trailers an abort sends). Trailers go
out with the status at no cost, where headers sent ahead of the response
would cost every call a write of their own (~0.15 ms of a 0.7 ms
GetSession).

The same wrapper is the one place that sees each call start and end (one
more interceptor would cost every call its own wrapper):

- with tracing on (`telemetry/tracing.py`), it makes the call's server span,
  parented by the caller's `traceparent`, current for the rest of the call,
  so that the Redis and embedding spans go under it; the span ends with the
  call's status and namespace;
- at the end, `observe_call` writes the access log line (`memrpc.access`, at
  `--access-log-level`): method, status, duration and tenant, with the id
  as every line about the call; JSON logs get them as fields. It counts the
  call in the metrics too (`memrpc/metrics.py`), when they are on.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry.trace import Span, SpanKind, StatusCode, Tracer, set_span_in_context

from memrpc import metrics
from memrpc.limits import MAX_CORRELATION_ID_CHARS
from memrpc.rpc.caller import tenant_of
from memrpc.rpc.handlers import behavior, rebuild, responses
from memrpc.telemetry import tracing
from memrpc.telemetry.json_log import ACCESS, JsonFormatter
from memrpc.telemetry.tracing import Metadata

if TYPE_CHECKING:
    from memrpc.rpc.errors import Context
    from memrpc.rpc.handlers import Handler

HEADER = "x-request-id"
_VALID = re.compile(f"[!-~]{{1,{MAX_CORRELATION_ID_CHARS}}}")
_current: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
access_log = logging.getLogger("memrpc.access")
# The statuses that make a server span an error (OpenTelemetry's gRPC
# conventions): the server's failures, not the caller's mistakes.
SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def current() -> str | None:
    """The id of the call being served, None outside calls."""
    return _current.get()


def request_id(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    """The call's id: its first `x-request-id` if valid, else a new one."""
    sent = next((value for key, value in metadata or () if key == HEADER), None)
    if isinstance(sent, str) and _VALID.fullmatch(sent):
        return sent
    return uuid.uuid4().hex


class CorrelationInterceptor(grpc.aio.ServerInterceptor):
    """Gives every call its correlation id and its span, answers the id in
    the response trailers and observes the call's end (`observe_call`).
    Must come first among the interceptors, so that their log lines name
    the id too, and their work is in the span."""

    def __init__(self, access_log_level: str = "DEBUG") -> None:
        self._access = None if access_log_level == "OFF" else logging.getLevelName(access_log_level)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        call_id = request_id(handler_call_details.invocation_metadata)
        _current.set(call_id)  # the call's task runs the rest of the call
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        return rebuild(handler, self._answered(handler, handler_call_details, call_id))

    def _answered(
        self, handler: Handler, details: grpc.HandlerCallDetails, call_id: str
    ) -> Callable[..., Any]:
        serve = behavior(handler)
        method = details.method
        trailers = ((HEADER, call_id),)
        access = self._access

        def begin(context: Context) -> tuple[float, Span | None]:
            context.set_trailing_metadata(trailers)
            span = None
            if tracing.tracer is not None:
                span = _start_span(tracing.tracer, method, details.invocation_metadata, call_id)
            return time.monotonic(), span

        def end(request: Any, context: Context, started: float, span: Span | None) -> None:
            seconds = time.monotonic() - started
            status = ended_status(context)
            if span is not None:
                _end_span(span, status, request)
            observe_call(method, status, seconds, request, access)

        if handler.response_streaming:

            async def answered_stream(request: Any, context: Context) -> AsyncIterator[Any]:
                started, span = begin(context)
                try:
                    async for response in responses(serve(request, context)):
                        yield response
                finally:
                    end(request, context, started, span)

            return answered_stream

        async def answered(request: Any, context: Context) -> Any:
            started, span = begin(context)
            try:
                return await serve(request, context)
            finally:
                end(request, context, started, span)

        return answered


def observe_call(
    method: str, status: grpc.StatusCode, seconds: float, request: Any, level: int | None
) -> None:
    """What is recorded of every call at its end: its count and duration in
    the metrics, the access log line at `level` (None: none), naming the
    tenant of `request` (worked out only when the line is written)."""
    metrics.call_ended(method, status.name, seconds)
    if level is None or not access_log.isEnabledFor(level):
        return
    tenant = _tenant(request)
    duration_ms = round(seconds * 1000, 1)
    access_log.log(
        level,
        "%s ended %s in %.1f ms (tenant %s)",
        method,
        status.name,
        duration_ms,
        tenant or "-",
        extra={
            ACCESS: {
                "method": method,
                "status": status.name,
                "duration_ms": duration_ms,
                "tenant": tenant,
            }
        },
    )


def ended_status(context: Context) -> grpc.StatusCode:
    """The status a call ended with (CANCELLED if its task was cancelled)."""
    code = context.code()
    if code is None:
        task = asyncio.current_task()
        return grpc.StatusCode.CANCELLED if task and task.cancelling() else grpc.StatusCode.OK
    return code if isinstance(code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN


def _tenant(request: Any) -> str | None:
    """The tenant of a memrpc call, None for health and reflection (whose
    requests have no namespace)."""
    return tenant_of(request) if isinstance(getattr(request, "namespace", None), str) else None


def _start_span(tracer: Tracer, method: str, metadata: Metadata | None, call_id: str) -> Span:
    """The call's server span, parented by the caller's trace context and
    current for the rest of the call's task (which ends with the call: no
    need to detach)."""
    service, _, name = method.lstrip("/").rpartition("/")
    span = tracer.start_span(
        method,
        context=tracing.remote_parent(metadata),
        kind=SpanKind.SERVER,
        attributes={
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": name,
            "memrpc.request_id": call_id,
        },
    )
    otel_context.attach(set_span_in_context(span))
    return span


def _end_span(span: Span, status: grpc.StatusCode, request: Any) -> None:
    span.set_attribute("rpc.grpc.status_code", status.value[0])
    namespace = getattr(request, "namespace", None)
    if isinstance(namespace, str):
        span.set_attribute("memrpc.namespace", namespace)
    if status in SERVER_ERRORS:
        span.set_status(StatusCode.ERROR, status.name)
    span.end()


class _Stamping:
    """A log record factory that adds the current call's id to records, and
    with tracing on the current span's trace and span ids."""

    def __init__(self, make: Callable[..., logging.LogRecord]) -> None:
        self._make = make

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._make(*args, **kwargs)
        record.request_id = _current.get()
        if tracing.tracer is not None:
            record.trace_id, record.span_id = tracing.current_ids()
        return record


def stamp_log_records() -> None:
    """Makes every log record carry `request_id`: the id of the call being
    served, None outside calls (and `trace_id`, `span_id` while tracing).
    Idempotent."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _Stamping):
        logging.setLogRecordFactory(_Stamping(factory))


class LogFormatter(logging.Formatter):
    """A formatter that ends the lines about a call with ` request_id=<id>`
    (before any traceback)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        call_id = getattr(record, "request_id", None)
        return line if call_id is None else f"{line} request_id={call_id}"


def configure_logging(level: str, log_format: str, text_format: str) -> None:
    """Logs at `level` to stderr: as JSON objects for the `log_format`
    "json" (`telemetry/json_log.py`), else as lines in `text_format` ending
    with the correlation id of the call, if any."""
    stamp_log_records()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else LogFormatter(text_format))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    # httpx, the language model's client, logs every request at INFO: the
    # jobs' calls are counted in the metrics instead.
    logging.getLogger("httpx").setLevel(logging.WARNING)
