"""Prometheus metrics (`--metrics-listen`, memrpc/metrics.py): known calls,
then a scrape of `/metrics` shows them counted, with their labels; with
`--workers 2` the supervisor's scrape sums both workers.

Metrics are process-wide and may have counted before a test: each test
compares two scrapes, before and after its calls."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from conftest import make_settings, running
from memrpc import metrics
from memrpc.config import Settings, SettingsError
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder, EmbeddingQueueFull, OnnxModel
from memrpc.server import MemrpcServer
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from test_tails import append, event_store, last_id, subscribed, tail_hub_on, take
from test_workers import CHANNELS, free_port, wait_serving, wait_workers

WM = "/memrpc.v1.WorkingMemory/"
EL = "/memrpc.v1.EventLog/"
# Calls a namespace may make at once before --tenant-rate refuses it.
BURST = 10
# How many scrapes a sampled gauge may take to show a change: ten periods.
SAMPLE_PERIOD_S = metrics.SAMPLE_PERIOD_S
SCRAPES = 100

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    """Every sample of `/metrics`, by name and labels."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


class Scrapes:
    """The change of the samples between a first scrape and the last."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.before = scrape(port)
        self.after = self.before

    def again(self) -> Scrapes:
        self.after = scrape(self.port)
        return self

    def value(self, name: str, **labels: str) -> float:
        return self.after.get((name, frozenset(labels.items())), 0.0)

    def delta(self, name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return self.after.get(key, 0.0) - self.before.get(key, 0.0)

    def delta_where(self, name: str, **labels: str) -> float:
        """The change summed over the samples of `name` with (at least) `labels`."""
        wanted = set(labels.items())
        return sum(
            value - self.before.get(key, 0.0)
            for key, value in self.after.items()
            if key[0] == name and wanted <= key[1]
        )

    async def until(self, check: Callable[[Scrapes], bool]) -> None:
        """Scrapes again until `check` holds (sampled gauges lag a little)."""
        for _ in range(SCRAPES):
            if check(await asyncio.to_thread(self.again)):
                return
            await asyncio.sleep(SAMPLE_PERIOD_S / 10)
        pytest.fail(f"not seen in {SCRAPES} scrapes")


@contextlib.asynccontextmanager
async def metered(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder
) -> AsyncIterator[tuple[MemrpcServer, grpc.aio.Channel]]:
    settings = make_settings(
        redis_server.url, metrics_listen="127.0.0.1:0", tenant_rate=0.01, tenant_burst=BURST
    )
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        yield server, channel
    assert not metrics.enabled()


def test_metrics_listen_must_be_host_and_port() -> None:
    for good in ("127.0.0.1:9090", "0.0.0.0:0", "[::1]:9090", "metrics.local:9090"):
        Settings(metrics_listen=good).validate()
    for bad in ("9090", "127.0.0.1", "127.0.0.1:port", "a b:1"):
        with pytest.raises(SettingsError, match="--metrics-listen"):
            Settings(metrics_listen=bad).validate()


async def test_known_calls_are_counted_and_timed(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with metered(redis_server, embedder) as (server, channel):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        scrapes = Scrapes(server.metrics_port)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetSession(wm.GetSessionRequest(namespace=ns, thread_id="none"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        turns = [wm.TurnInput(role="user", content="hello")]
        await stub.AppendTurns(wm.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns))
        await stub.GetSession(wm.GetSessionRequest(namespace=ns, thread_id="t"))
        search = ltm.SearchMemoriesRequest(namespace=ns, text=f"metrics {ns}")
        await long_term_memory_pb2_grpc.LongTermMemoryStub(channel).SearchMemories(search)
        scrapes.again()

        calls = "memrpc_rpc_calls_total"
        assert scrapes.delta(calls, method=WM + "GetSession", code="NOT_FOUND") == 1
        assert scrapes.delta(calls, method=WM + "GetSession", code="OK") == 1
        assert scrapes.delta(calls, method=WM + "AppendTurns", code="OK") == 1
        method = "/memrpc.v1.LongTermMemory/SearchMemories"
        assert scrapes.delta(calls, method=method, code="OK") == 1
        assert scrapes.delta("memrpc_rpc_duration_seconds_count", method=WM + "GetSession") == 2
        assert scrapes.delta("memrpc_rpc_duration_seconds_sum", method=WM + "GetSession") > 0
        slowest = {"method": WM + "GetSession", "le": "+Inf"}
        assert scrapes.delta("memrpc_rpc_duration_seconds_bucket", **slowest) == 2
        # One HGETALL per GetSession, and one of the namespace's settings
        # (AppendTurns reads them; the search finds them cached, unless a
        # slow machine took their 2 s in between); the texts of a search,
        # one new text.
        redis = "memrpc_redis_command_duration_seconds_count"
        assert scrapes.delta(redis, command="HGETALL") in (3, 4)
        assert scrapes.delta("memrpc_embed_batch_texts_count") == 1
        assert scrapes.delta("memrpc_embed_batch_texts_sum") == 1
        assert scrapes.value("memrpc_embed_queue_texts") == 0
    assert scrape_refused(server.metrics_port)


def scrape_refused(port: int) -> bool:
    """Whether the endpoint is gone (the server stopped)."""
    try:
        scrape(port)
    except OSError:
        return True
    return False


async def test_tails_groups_errors_and_refusals_are_counted(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with metered(redis_server, embedder) as (server, channel):
        stub = event_log_pb2_grpc.EventLogStub(channel)
        scrapes = Scrapes(server.metrics_port)
        tail = stub.TailEvents(
            ev.TailEventsRequest(namespace=ns, cursors=[ev.ThreadCursor(thread_id="t")])
        )
        await scrapes.until(lambda s: s.value("memrpc_tails_open") == 1)
        tail.cancel()
        await scrapes.until(lambda s: s.value("memrpc_tails_open") == 0)
        await scrapes.until(
            lambda s: (
                s.delta("memrpc_rpc_calls_total", method=EL + "TailEvents", code="CANCELLED") == 1
            )
        )

        # A group that reads one of three events is two behind.
        earliest = ev.GROUP_START_POSITION_EARLIEST
        inputs = [ev.EventInput(type="note") for _ in range(3)]
        await stub.AppendEvents(ev.AppendEventsRequest(namespace=ns, thread_id="t", events=inputs))
        group = ev.CreateConsumerGroupRequest(namespace=ns, group="g", start_position=earliest)
        await stub.CreateConsumerGroup(group)
        receive = ev.ReceiveEventsRequest(namespace=ns, group="g", consumer="c", max_events=1)
        assert len((await stub.ReceiveEvents(receive)).events) == 1
        # A group that does not exist: an error reply of Redis.
        with pytest.raises(grpc.aio.AioRpcError):
            await stub.ReceiveEvents(
                ev.ReceiveEventsRequest(namespace=ns, group="none", consumer="c")
            )
        # A namespace over its burst: refused.
        flood = f"{ns}-flood"
        request = wm.GetSessionRequest(namespace=flood, thread_id="t")
        sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        codes = []
        for _ in range(BURST + 1):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await sessions.GetSession(request)
            codes.append(err.value.code())
        assert codes == [grpc.StatusCode.NOT_FOUND] * BURST + [grpc.StatusCode.RESOURCE_EXHAUSTED]
        # A call is counted once its status is sent: the client can see it first.
        exhausted = {"method": WM + "GetSession", "code": "RESOURCE_EXHAUSTED"}
        await scrapes.until(lambda s: s.delta("memrpc_rpc_calls_total", **exhausted) == 1)

        assert scrapes.delta("memrpc_consumer_group_lag_events_count") == 1
        assert scrapes.delta("memrpc_consumer_group_lag_events_sum") == 2
        errors = "memrpc_redis_command_errors_total"
        assert scrapes.delta_where(errors, error="NoGroupError") == 1
        assert scrapes.delta("memrpc_refused_calls_total", setting="tenant_rate") == 1


async def test_workers_are_summed_by_the_supervisor(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "memrpc.cli", "serve", "--workers", "2", "--listen", address,
        "--metrics-listen", f"127.0.0.1:{metrics_port}", "--data-dir", str(tmp_path / "data"),
        "--shutdown-grace", "2", "--drain-delay", "0",
        env=env, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [grpc.aio.insecure_channel(address, options=options) for _ in range(CHANNELS)]
    try:
        await wait_serving(address)
        await wait_workers(proc.pid, port)
        scrapes = await asyncio.to_thread(Scrapes, metrics_port)
        request = wm.GetSessionRequest(namespace="w", thread_id="none")
        for channel in channels:  # on both workers (see tests/test_workers.py)
            with pytest.raises(grpc.aio.AioRpcError):
                await working_memory_pb2_grpc.WorkingMemoryStub(channel).GetSession(request)
        # A call is counted once its status is sent: the client can see it first.
        calls = {"method": WM + "GetSession", "code": "NOT_FOUND"}
        await scrapes.until(lambda s: s.delta("memrpc_rpc_calls_total", **calls) == CHANNELS)
        assert scrapes.delta("memrpc_redis_command_duration_seconds_count", command="HGETALL") == (
            CHANNELS
        )
        assert scrapes.value("memrpc_tails_open") == 0
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
        assert proc.returncode == 0, err
        assert b"serving the workers' metrics" in err
    finally:
        for channel in channels:
            await channel.close()
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


@pytest.fixture
def metrics_on() -> Iterator[Callable[..., float]]:
    """Metrics on for the test; the value of a sample (by name and labels) now."""

    def value(name: str, **labels: str) -> float:
        return REGISTRY.get_sample_value(name, labels) or 0.0

    metrics.enable()
    try:
        yield value
    finally:
        metrics.disable()


async def test_a_subscriber_dropped_for_lagging_is_counted(
    redis_server: EmbeddedRedis, metrics_on: Callable[..., float], ns: str
) -> None:
    dropped = metrics_on("memrpc_tails_dropped_slow_total")
    async with event_store(redis_server.url) as store:
        start = await last_id(store, ns, "t")
        async with (
            tail_hub_on(store, max_lag=2) as hub,
            subscribed(hub, ns, [{"t": start}, {"t": start}]) as (_, fast),
        ):
            # Once the fast one has them, the hub has handed them to the slow
            # one: 2 behind, the limit, then 3.
            for n in (2, 1):
                await append(store, ns, "t", n)
                await take(fast, n)
            assert hub.stats().failed == 1
    assert metrics_on("memrpc_tails_dropped_slow_total") == dropped + 1


async def test_texts_shed_by_a_full_embedding_queue_are_counted(
    metrics_on: Callable[..., float],
) -> None:
    shed = metrics_on("memrpc_embed_shed_texts_total")
    refused = metrics_on("memrpc_refused_calls_total", setting="embed_queue_max")
    bounded = BatchingEmbedder(OnnxModel(), max_queue=1)
    try:
        with pytest.raises(EmbeddingQueueFull):
            await bounded.embed(["one", "two"])  # 0 + 2 > 1: refused at once
    finally:
        await bounded.aclose()
    assert metrics_on("memrpc_embed_shed_texts_total") == shed + 2
    assert metrics_on("memrpc_refused_calls_total", setting="embed_queue_max") == refused + 1
