"""Tracing and logs: the spans of a known call reach an in-process OTLP
collector, parented by the caller's `traceparent`, with Redis and embedding
child spans under the call's span; an unsampled trace exports nothing; the
access log line has its fields, and JSON logs carry them."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.trace.v1 import trace_pb2

from conftest import make_settings, running
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.rpc.correlation import HEADER, observe_call
from memrpc.telemetry.json_log import JsonFormatter
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from memrpc.v1 import long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import working_memory_pb2 as wm_pb

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
UNSAMPLED_TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SERVER = trace_pb2.Span.SPAN_KIND_SERVER
CLIENT = trace_pb2.Span.SPAN_KIND_CLIENT


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP trace collector that keeps every span it is sent."""

    def __init__(self) -> None:
        self.spans: list[trace_pb2.Span] = []
        self.service_names: set[str] = set()
        self._lock = threading.Lock()

    def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        with self._lock:
            for resource_spans in request.resource_spans:
                for attribute in resource_spans.resource.attributes:
                    if attribute.key == "service.name":
                        self.service_names.add(attribute.value.string_value)
                for scope_spans in resource_spans.scope_spans:
                    self.spans.extend(scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[Collector, int]]:
    """A collector serving on a free loopback port (on threads of its own:
    the server's exporter blocks a thread, never the event loop)."""
    servicer = Collector()
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, port
    server.stop(0)


@dataclass
class Traced:
    """What the calls to a tracing server left: the collector's spans and the
    access log records."""

    spans: list[trace_pb2.Span]
    service_names: set[str]
    access: list[logging.LogRecord]


def attributes(span: trace_pb2.Span) -> dict[str, Any]:
    """A span's attributes as plain values."""
    values: dict[str, Any] = {}
    for attribute in span.attributes:
        kind = attribute.value.WhichOneof("value")
        values[attribute.key] = getattr(attribute.value, kind) if kind else None
    return values


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
async def traced(
    collector: tuple[Collector, int], redis_server: EmbeddedRedis, embedder: BatchingEmbedder
) -> Traced:
    """Known calls to a server exporting to the collector, which has every
    span once the server has stopped (stopping sends the spans queued)."""
    servicer, port = collector
    keep = _Keep()
    access = logging.getLogger("memrpc.access")
    access.addHandler(keep)
    was = access.level
    access.setLevel(logging.INFO)
    settings = make_settings(
        redis_server.url, otlp_endpoint=f"http://127.0.0.1:{port}", access_log_level="INFO"
    )
    try:
        async with (
            running(settings, embedder) as server,
            grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
        ):
            wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
            ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
            sampled = [("traceparent", f"00-{TRACE_ID}-{PARENT_ID}-01"), (HEADER, "traced-1")]
            await wm.UpdateSession(
                wm_pb.UpdateSessionRequest(
                    namespace="traced", thread_id="t", session=wm_pb.SessionInput(goal="g")
                ),
                metadata=sampled,
            )
            await ltm.SearchMemories(
                ltm_pb.SearchMemoriesRequest(namespace="traced", text="where are my keys"),
                metadata=sampled,
            )
            unsampled = [("traceparent", f"00-{UNSAMPLED_TRACE_ID}-{PARENT_ID}-00")]
            await wm.UpdateSession(
                wm_pb.UpdateSessionRequest(
                    namespace="traced", thread_id="u", session=wm_pb.SessionInput(goal="g")
                ),
                metadata=unsampled,
            )
    finally:
        access.removeHandler(keep)
        access.setLevel(was)
    return Traced(list(servicer.spans), set(servicer.service_names), keep.records)


def server_span(traced: Traced, method: str) -> trace_pb2.Span:
    [span] = [s for s in traced.spans if s.name == method and s.kind == SERVER]
    return span


def children(traced: Traced, parent: trace_pb2.Span) -> list[trace_pb2.Span]:
    return [s for s in traced.spans if s.parent_span_id == parent.span_id]


async def test_the_call_span_continues_the_callers_trace(traced: Traced) -> None:
    span = server_span(traced, "/memrpc.v1.WorkingMemory/UpdateSession")
    assert span.trace_id.hex() == TRACE_ID
    assert span.parent_span_id.hex() == PARENT_ID
    assert attributes(span) == {
        "rpc.system": "grpc",
        "rpc.service": "memrpc.v1.WorkingMemory",
        "rpc.method": "UpdateSession",
        "rpc.grpc.status_code": 0,
        "memrpc.namespace": "traced",
        "memrpc.request_id": "traced-1",
    }
    assert traced.service_names == {"memrpc"}


async def test_redis_commands_have_child_spans(traced: Traced) -> None:
    span = server_span(traced, "/memrpc.v1.WorkingMemory/UpdateSession")
    redis_spans = children(traced, span)
    assert redis_spans
    for child in redis_spans:
        assert child.kind == CLIENT
        assert child.trace_id == span.trace_id
        assert attributes(child)["db.system.name"] == "redis"
    scripts = [attributes(child).get("memrpc.script") for child in redis_spans]
    assert any(scripts), [child.name for child in redis_spans]
    assert all(
        child.name == f"EVALSHA {script}"
        for child, script in zip(redis_spans, scripts, strict=True)
        if script
    )


async def test_a_search_by_text_has_an_embedding_span(traced: Traced) -> None:
    span = server_span(traced, "/memrpc.v1.LongTermMemory/SearchMemories")
    assert span.trace_id.hex() == TRACE_ID
    names = [child.name for child in children(traced, span)]
    assert "embed" in names, names
    [embed] = [child for child in children(traced, span) if child.name == "embed"]
    assert attributes(embed)["memrpc.embed.texts"] == 1
    assert any(
        attributes(child).get("db.system.name") == "redis" for child in children(traced, span)
    )


async def test_an_unsampled_trace_exports_nothing(traced: Traced) -> None:
    assert not [s for s in traced.spans if s.trace_id.hex() == UNSAMPLED_TRACE_ID]


async def test_the_access_log_line_has_its_fields(traced: Traced) -> None:
    [update] = [
        r
        for r in traced.access
        if getattr(r, "request_id", None) == "traced-1" and "UpdateSession" in r.getMessage()
    ]
    assert update.levelno == logging.INFO
    assert update.access == {  # type: ignore[attr-defined]
        "method": "/memrpc.v1.WorkingMemory/UpdateSession",
        "status": "OK",
        "duration_ms": update.access["duration_ms"],  # type: ignore[attr-defined]
        "tenant": "namespace:traced",
    }
    assert update.getMessage().startswith("/memrpc.v1.WorkingMemory/UpdateSession ended OK in ")
    line = json.loads(JsonFormatter().format(update))
    span = server_span(traced, "/memrpc.v1.WorkingMemory/UpdateSession")
    assert line["request_id"] == "traced-1"
    assert line["trace_id"] == TRACE_ID
    assert line["span_id"] == span.span_id.hex()
    assert line["tenant"] == "namespace:traced"
    assert line["status"] == "OK"
    assert isinstance(line["duration_ms"], float)
    assert line["level"] == "INFO"
    assert line["logger"] == "memrpc.access"


def test_a_json_line_carries_the_exception() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("memrpc.test").makeRecord(
            "memrpc.test", logging.ERROR, __file__, 1, "failed %s", ("here",), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed here"
    assert line["level"] == "ERROR"
    assert "ValueError: boom" in line["exception"]
    assert line["time"].endswith("+00:00")
    assert "request_id" not in line


def test_json_logs_go_to_stderr_one_object_per_line() -> None:
    """`--log-format json` as `memrpc serve` sets it up, in a process of its
    own (logging is configured once per process)."""
    script = (
        "import logging; from memrpc.rpc.correlation import configure_logging; "
        "configure_logging('INFO', 'json', '%(message)s'); "
        "logging.getLogger('memrpc.test').info('one %s', 1); "
        "logging.getLogger('memrpc.test').debug('not at INFO')"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    [line] = done.stderr.splitlines()
    assert json.loads(line) | {"time": "", "pid": 0} == {
        "time": "",
        "pid": 0,
        "level": "INFO",
        "logger": "memrpc.test",
        "message": "one 1",
    }


def test_an_access_level_of_off_logs_no_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="memrpc.access")
    observe_call("/memrpc.v1.EventLog/AppendEvents", grpc.StatusCode.OK, 0.001, None, None)
    assert not caplog.records
    observe_call("/grpc.health.v1.Health/Check", grpc.StatusCode.OK, 0.001, None, logging.DEBUG)
    [record] = caplog.records
    assert record.getMessage() == "/grpc.health.v1.Health/Check ended OK in 1.0 ms (tenant -)"
