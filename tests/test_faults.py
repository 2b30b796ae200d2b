"""Faults: Redis killed under load, Redis connections gone silent under load
and tails, the gRPC server restarted under tails and consumer groups, client
deadlines and cancellations of blocking calls, and the server's deadline for
calls that carry none.

Each test starts its own Redis and servers (on free loopback ports) so that
it can kill them and count the Redis clients left behind.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
import redis.asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

import memrpc.server
from conftest import make_settings, running
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder, ModelIdentity
from memrpc.server import MemrpcServer
from memrpc.store import keys
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from stall_proxy import StallingProxy
from support import assert_reason
from test_event_log import duration, id_key, wait_for_clients

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
# Generous bound on every wait; no test relies on it being tight.
WITHIN_S = 20.0
# Reconnect fast to a restarted server (gRPC's default first backoff is 1 s).
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 50),
    ("grpc.min_reconnect_backoff_ms", 50),
    ("grpc.max_reconnect_backoff_ms", 200),
]


async def eventually(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Waits (bounded) until `check` holds; fails naming `what` otherwise."""
    deadline = time.monotonic() + WITHIN_S
    while True:
        result = check()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"not within {WITHIN_S} s: {what}")
        await asyncio.sleep(0.02)


async def redis_pid(url: str) -> int:
    """The process id of the Redis at `url`, as it reports it."""
    client = redis.asyncio.from_url(url)
    try:
        return int((await client.info("server"))["process_id"])
    finally:
        await client.aclose()


async def kill_redis(url: str) -> int:
    """SIGKILLs the Redis at `url`, as a crash would; returns its old pid."""
    pid = await redis_pid(url)
    os.kill(pid, signal.SIGKILL)
    return pid


async def feed_types(url: str, ns: str) -> dict[str, list[str]]:
    """The types of the non-turn events in the namespace feed, per thread."""
    client = redis.asyncio.from_url(url)
    try:
        entries = await client.xrange(keys.feed(ns))
    finally:
        await client.aclose()
    types: dict[str, list[str]] = collections.defaultdict(list)
    for _, fields in entries:
        if not fields[b"type"].startswith(b"memrpc."):
            types[fields[b"thread"].decode()].append(fields[b"type"].decode())
    return types


async def health(channel: grpc.aio.Channel) -> int:
    """The status `grpc.health.v1.Health/Check` reports for the server ("")."""
    stub = health_pb2_grpc.HealthStub(channel)
    return (await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)).status


class HealthWatch:
    """Every status `Health/Watch` reports for the server (""), in order,
    until stopped."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = health_pb2_grpc.HealthStub(channel)
        self.statuses: list[int] = []
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for reply in self._stub.Watch(health_pb2.HealthCheckRequest(service="")):
            self.statuses.append(reply.status)

    def stop(self) -> None:
        self._task.cancel()


@contextlib.asynccontextmanager
async def serving(
    redis_url: str | None, embedder: Any, **overrides: object
) -> AsyncIterator[tuple[MemrpcServer, grpc.aio.Channel]]:
    """A started server (on `redis_url`, or its own embedded Redis) and a
    channel to it; both closed on exit."""
    async with (
        running(make_settings(redis_url, **overrides), embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}", options=CHANNEL_OPTIONS) as channel,
    ):
        yield server, channel


@pytest.fixture
def fast_health(monkeypatch: pytest.MonkeyPatch) -> None:
    """Servers ping Redis for their health every 20 ms instead of every
    second, so that an outage as short as a supervised restart shows."""
    monkeypatch.setattr(memrpc.server, "HEALTH_PERIOD_S", 0.02)


# --- Redis killed under load -------------------------------------------------


class Load:
    """A few clients, each on a thread of its own, calling GetSession,
    AppendTurns and AppendEvents in turn until stopped; every outcome is
    counted by status code. Each client's appends are numbered: a failed one
    is retried with the same `request_id` until it succeeds, and
    `appended[thread]` counts the acknowledged ones."""

    OPS = ("GetSession", "AppendTurns", "AppendEvents")

    def __init__(self, channel: grpc.aio.Channel, ns: str, clients: int = 4) -> None:
        self._wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        self._ev = event_log_pb2_grpc.EventLogStub(channel)
        self._ns = ns
        self._stopping = False
        self.codes: collections.Counter[grpc.StatusCode] = collections.Counter()
        self.successes: collections.Counter[str] = collections.Counter()
        self.appended: collections.Counter[str] = collections.Counter()
        self._tasks = [asyncio.create_task(self._client(f"t{i}")) for i in range(clients)]

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*self._tasks)

    async def _client(self, thread: str) -> None:
        calls: dict[str, Callable[[], Awaitable[Any]]] = {
            "AppendTurns": lambda: self._wm.AppendTurns(
                wm.AppendTurnsRequest(
                    namespace=self._ns,
                    thread_id=thread,
                    turns=[wm.TurnInput(role="user", content="x")],
                ),
                timeout=5,
            ),
            "GetSession": lambda: self._wm.GetSession(
                wm.GetSessionRequest(namespace=self._ns, thread_id=thread), timeout=5
            ),
            "AppendEvents": lambda: self._ev.AppendEvents(
                ev.AppendEventsRequest(
                    namespace=self._ns,
                    thread_id=thread,
                    events=[ev.EventInput(type=f"note-{self.appended[thread]}")],
                    request_id=f"{thread}-{self.appended[thread]}",
                ),
                timeout=5,
            ),
        }
        # The session exists before any GetSession: a NOT_FOUND is a loss.
        while not self.successes[f"{thread}:create"] and not self._stopping:
            await self._call("AppendTurns", calls["AppendTurns"], f"{thread}:create")
        while not self._stopping:
            for op in self.OPS:
                if await self._call(op, calls[op], op) and op == "AppendEvents":
                    self.appended[thread] += 1

    async def _call(self, op: str, call: Callable[[], Awaitable[Any]], name: str) -> bool:
        try:
            await call()
        except grpc.aio.AioRpcError as err:
            self.codes[err.code()] += 1
            await asyncio.sleep(0.01)
            return False
        self.codes[grpc.StatusCode.OK] += 1
        self.successes[name] += 1
        return True


async def test_redis_killed_under_load_gives_unavailable_then_recovers(
    tmp_path: Path, embedder: BatchingEmbedder, fast_health: None
) -> None:
    async with serving(None, embedder, data_dir=tmp_path / "data") as (server, channel):
        watcher = HealthWatch(channel)
        statuses = watcher.statuses
        load = Load(channel, "n")
        try:
            await eventually(lambda: all(load.successes[op] >= 10 for op in Load.OPS), "load")
            assert statuses == [SERVING]
            old_pid = await kill_redis(server.redis_url)
            await eventually(lambda: NOT_SERVING in statuses, "health NOT_SERVING")
            await eventually(lambda: statuses[-1] == SERVING, "health SERVING again")
            assert await health(channel) == SERVING
            assert await redis_pid(server.redis_url) != old_pid  # the supervisor restarted it
            before = dict(load.successes)
            # Every kind of call succeeds again, on the same server.
            await eventually(
                lambda: all(load.successes[op] > before[op] + 5 for op in Load.OPS),
                "calls succeed again",
            )
        finally:
            watcher.stop()
            await load.stop()
        # Retried with their request ids, the appends are each in the feed
        # (and so in the log: one script writes both) exactly once. The last
        # may be there unacknowledged, if its final try failed.
        feed = await feed_types(server.redis_url, "n")
        for thread, acknowledged in load.appended.items():
            notes = [f"note-{i}" for i in range(acknowledged + 1)]
            assert feed[thread] in (notes[:-1], notes), thread
    assert load.codes[grpc.StatusCode.UNAVAILABLE] > 0, load.codes
    assert set(load.codes) == {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, load.codes


# --- The gRPC server restarted under tails and consumer groups ----------------


class _Cancelled:
    """A client running in `self._task` until `stop` cancels it."""

    _task: asyncio.Task[None]

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class Tailer(_Cancelled):
    """A TailEvents subscriber that resumes from the last cursor it received
    whenever its stream ends, however it ends."""

    def __init__(self, channel: grpc.aio.Channel, ns: str, threads: list[str]) -> None:
        self._stub = event_log_pb2_grpc.EventLogStub(channel)
        self._ns = ns
        self.cursors = dict.fromkeys(threads, "0")
        self.received: dict[str, list[str]] = {thread: [] for thread in threads}
        self.endings: collections.Counter[grpc.StatusCode] = collections.Counter()
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            cursors = [
                ev.ThreadCursor(thread_id=t, after_event_id=c) for t, c in self.cursors.items()
            ]
            request = ev.TailEventsRequest(
                namespace=self._ns, cursors=cursors, heartbeat_interval=duration(0.2)
            )
            try:
                async for message in self._stub.TailEvents(request):
                    if message.HasField("event"):
                        self.received[message.event.thread_id].append(message.event.id)
                        self.cursors[message.event.thread_id] = message.event.id
                    else:
                        for cursor in message.checkpoint.cursors:
                            self.cursors[cursor.thread_id] = cursor.after_event_id
                self.endings[grpc.StatusCode.OK] += 1
            except grpc.aio.AioRpcError as err:
                self.endings[err.code()] += 1
            await asyncio.sleep(0.02)


class Consumer(_Cancelled):
    """One consumer of a group: receives, acknowledges, receives again; keeps
    every delivery and every acknowledgement that succeeded."""

    def __init__(self, channel: grpc.aio.Channel, ns: str, group: str) -> None:
        self._stub = event_log_pb2_grpc.EventLogStub(channel)
        self._ns = ns
        self._group = group
        self.deliveries: list[ev.ReceivedEvent] = []
        self.acknowledged: set[str] = set()
        # Deliveries of events after their acknowledgement had succeeded.
        self.after_ack: list[str] = []
        self.errors: collections.Counter[grpc.StatusCode] = collections.Counter()
        self._task = asyncio.create_task(self._run())

    @property
    def events(self) -> set[tuple[str, str]]:
        """The (thread id, event id) of every event delivered."""
        return {(d.event.thread_id, d.event.id) for d in self.deliveries}

    async def _run(self) -> None:
        while True:
            try:
                received = await self._stub.ReceiveEvents(
                    ev.ReceiveEventsRequest(
                        namespace=self._ns,
                        group=self._group,
                        consumer="c",
                        max_events=50,
                        wait=duration(0.2),
                        redeliver_after=duration(0.5),
                    ),
                    timeout=5,
                )
                ids = [delivery.delivery_id for delivery in received.events]
                self.after_ack += [i for i in ids if i in self.acknowledged]
                self.deliveries += received.events
                if ids:
                    await self._stub.AcknowledgeEvents(
                        ev.AcknowledgeEventsRequest(
                            namespace=self._ns, group=self._group, delivery_ids=ids
                        ),
                        timeout=5,
                    )
                    self.acknowledged.update(ids)
            except grpc.aio.AioRpcError as err:
                self.errors[err.code()] += 1
                await asyncio.sleep(0.02)


class Writer:
    """Appends events to a few threads, round robin, until stopped; keeps
    the ids of every append acknowledged."""

    def __init__(self, channel: grpc.aio.Channel, ns: str, threads: list[str]) -> None:
        self._stub = event_log_pb2_grpc.EventLogStub(channel)
        self._ns = ns
        self._threads = threads
        self.appended: dict[str, list[str]] = {thread: [] for thread in threads}
        self._stopping = False
        self._task = asyncio.create_task(self._run())

    @property
    def count(self) -> int:
        return sum(map(len, self.appended.values()))

    async def stop(self) -> None:
        self._stopping = True
        await self._task

    async def _run(self) -> None:
        while not self._stopping:
            for thread in self._threads:
                reply = await self._stub.AppendEvents(
                    ev.AppendEventsRequest(
                        namespace=self._ns, thread_id=thread, events=[ev.EventInput(type="e")]
                    ),
                    timeout=5,
                )
                self.appended[thread] += reply.event_ids
            await asyncio.sleep(0.005)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_process(
    redis_url: str, port: int, work_dir: Path, *extra: str
) -> subprocess.Popen[bytes]:
    """`memrpc serve` on 127.0.0.1:`port` with `redis_url`, no drain delay
    and the `extra` arguments, as a child process (its output in
    `work_dir`/memrpc.log)."""
    args = [sys.executable, "-m", "memrpc.cli", "serve", "--listen", f"127.0.0.1:{port}"]
    args += ["--redis-url", redis_url, "--data-dir", str(work_dir / "data"), "--drain-delay", "0"]
    args += extra
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")}
    with (work_dir / "memrpc.log").open("ab") as log:
        return subprocess.Popen(args, env=env, stdout=log, stderr=log)


async def end_process(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Sends `sig` to a process (unless it exited) and waits for it to exit."""
    if proc.poll() is None:
        proc.send_signal(sig)
    await asyncio.to_thread(proc.wait, WITHIN_S)


async def until_serving(proc: subprocess.Popen[bytes], channel: grpc.aio.Channel) -> None:
    """Waits until the server process reports SERVING on `channel`."""

    async def serving_now() -> bool:
        assert proc.poll() is None, f"memrpc serve exited with code {proc.returncode}"
        with contextlib.suppress(grpc.aio.AioRpcError):
            return await health(channel) == SERVING
        return False

    await eventually(serving_now, "server SERVING")


@pytest.mark.parametrize("kill", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "abrupt"])
async def test_server_restart_loses_no_event_for_tails_and_groups(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder, tmp_path: Path, kill: signal.Signals
) -> None:
    threads = ["a", "b", "c"]
    port = free_port()
    # Writes go through a server that stays up, reads through one restarted.
    async with serving(own_redis.url, embedder) as (_, writes):
        await event_log_pb2_grpc.EventLogStub(writes).CreateConsumerGroup(
            ev.CreateConsumerGroupRequest(namespace="n", group="g")
        )
        reader = serve_process(own_redis.url, port, tmp_path)
        try:
            address = f"127.0.0.1:{port}"
            async with grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS) as reads:
                await until_serving(reader, reads)
                tailer = Tailer(reads, "n", threads)
                consumer = Consumer(reads, "n", "g")
                writer = Writer(writes, "n", threads)
                try:
                    await eventually(lambda: len(consumer.deliveries) >= 30, "deliveries")
                    await eventually(lambda: min(map(len, tailer.received.values())) >= 10, "tail")
                    await end_process(reader, kill)
                    written = writer.count
                    await eventually(lambda: writer.count > written + 30, "writes meanwhile")
                    reader = serve_process(own_redis.url, port, tmp_path)
                    await until_serving(reader, reads)
                    await writer.stop()
                    appended = {(t, e) for t, ids in writer.appended.items() for e in ids}
                    await eventually(lambda: consumer.events >= appended, "every event delivered")
                    await eventually(lambda: tailer.received == writer.appended, "no gap, no dup")
                finally:
                    for client in (tailer, consumer, writer):
                        await client.stop()
        finally:
            await end_process(reader, signal.SIGTERM)
    # Tails: no gap, no duplicate. Groups: at least once, and a duplicate
    # only of a delivery whose acknowledgement did not succeed.
    assert consumer.after_ack == []
    ends = {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED}
    assert set(tailer.endings) <= ends, tailer.endings
    if kill == signal.SIGTERM:
        assert tailer.endings[grpc.StatusCode.OK] >= 1, tailer.endings
    assert set(consumer.errors) <= ends - {grpc.StatusCode.OK}, consumer.errors


# --- Redis connections gone silent --------------------------------------------

# The command timeout of the stall test: below the 5 s deadline of `Load`'s
# calls (which would end DEADLINE_EXCEEDED first otherwise), and short, so
# that the stall ends soon.
STALL_COMMAND_TIMEOUT_S = 2.0


async def log_ids(url: str, ns: str, thread: str) -> list[str]:
    """The ids of a thread log's events, oldest first."""
    client = redis.asyncio.from_url(url)
    try:
        return [entry_id.decode() for entry_id, _ in await client.xrange(keys.events(ns, thread))]
    finally:
        await client.aclose()


async def test_redis_stall_gives_unavailable_then_recovers_without_restart(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder
) -> None:
    threads = [f"t{i}" for i in range(4)]  # those of `Load`
    async with (
        StallingProxy(own_redis.url) as proxy,
        serving(proxy.url, embedder, redis_command_timeout=STALL_COMMAND_TIMEOUT_S) as (
            _,
            channel,
        ),
    ):
        watcher = HealthWatch(channel)
        load = Load(channel, "n")
        tailer = Tailer(channel, "n", threads)
        sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        try:
            await eventually(lambda: all(load.successes[op] >= 10 for op in Load.OPS), "load")
            await eventually(lambda: min(map(len, tailer.received.values())) >= 5, "tail")
            assert watcher.statuses == [SERVING]
            # The shared connection and the tail reader's go silent; new
            # connections through the proxy still work.
            proxy.stall()
            stalled = time.monotonic()
            # A call without a deadline ends, UNAVAILABLE or served, never hangs.
            async with asyncio.timeout(WITHIN_S):
                with contextlib.suppress(grpc.aio.AioRpcError):
                    await sessions.GetSession(wm.GetSessionRequest(namespace="n", thread_id="t0"))
            await eventually(lambda: NOT_SERVING in watcher.statuses, "health NOT_SERVING")
            await eventually(lambda: watcher.statuses[-1] == SERVING, "health SERVING again")
            # The figure of docs/reliability.md (`pytest -s` shows it).
            print(f"\nhealth SERVING again {time.monotonic() - stalled:.1f} s after the stall")
            before = dict(load.successes)
            await eventually(
                lambda: all(load.successes[op] > before[op] + 5 for op in Load.OPS),
                "calls succeed again",
            )
            tailed = {thread: len(ids) for thread, ids in tailer.received.items()}
            await eventually(
                lambda: all(len(tailer.received[t]) > tailed[t] + 5 for t in threads),
                "the tail goes on",
            )
        finally:
            watcher.stop()
            await load.stop()
            await tailer.stop()
        assert proxy.accepted > 2  # the server connected again, without a restart
        assert load.codes[grpc.StatusCode.UNAVAILABLE] > 0, load.codes
        assert set(load.codes) == {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, load.codes
        assert set(tailer.endings) <= {grpc.StatusCode.UNAVAILABLE}, tailer.endings
        # The tail got the events of each log (as far as it keeps them) with
        # no gap and no duplicate, across the stall.
        for thread in threads:
            kept = await log_ids(own_redis.url, "n", thread)
            received = [i for i in tailer.received[thread] if id_key(i) >= id_key(kept[0])]
            assert received == kept[: len(received)], thread


# --- Deadlines and cancellation --------------------------------------------------


@pytest.fixture
async def own_server(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder
) -> AsyncIterator[tuple[grpc.aio.Channel, redis.asyncio.Redis]]:
    """A server on a Redis of the test's own, and a client of that Redis."""
    client = redis.asyncio.from_url(own_redis.url)
    async with serving(own_redis.url, embedder) as (_, channel):
        yield channel, client
    await client.aclose()


async def end_early(call: Any, outcome: Callable[[], Awaitable[Any]], how: str) -> None:
    """Waits for the `outcome` of a call given a deadline ("deadline"), or
    cancels the call first ("cancel"); checks that it ended that way."""
    if how == "cancel":
        call.cancel()
    with pytest.raises((grpc.aio.AioRpcError, asyncio.CancelledError)) as ended:
        async with asyncio.timeout(WITHIN_S):
            await outcome()
    if how == "deadline":
        assert isinstance(ended.value, grpc.aio.AioRpcError), ended.value
        assert ended.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    else:
        assert isinstance(ended.value, asyncio.CancelledError)


@pytest.mark.parametrize("how", ["deadline", "cancel"])
async def test_receive_given_up_by_its_client_stops_blocking_in_redis(
    own_server: tuple[grpc.aio.Channel, redis.asyncio.Redis], how: str
) -> None:
    channel, client = own_server
    stub = event_log_pb2_grpc.EventLogStub(channel)
    await stub.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace="n", group="g"))
    request = ev.ReceiveEventsRequest(namespace="n", group="g", consumer="c", wait=duration(30))
    call = stub.ReceiveEvents(request, timeout=2.0 if how == "deadline" else None)
    await wait_for_clients(client, "xreadgroup", 1)  # blocked in Redis
    await end_early(call, lambda: call, how)
    await wait_for_clients(client, "xreadgroup", 0)


@pytest.mark.parametrize("how", ["deadline", "cancel"])
async def test_tail_given_up_by_its_client_stops_reading_redis(
    own_server: tuple[grpc.aio.Channel, redis.asyncio.Redis], how: str
) -> None:
    channel, client = own_server
    stub = event_log_pb2_grpc.EventLogStub(channel)
    request = ev.TailEventsRequest(namespace="n", cursors=[ev.ThreadCursor(thread_id="t")])
    call = stub.TailEvents(request, timeout=2.0 if how == "deadline" else None)
    assert (await call.read()).HasField("checkpoint")
    await wait_for_clients(client, "xread", 1)  # blocked in Redis

    async def drain() -> None:
        while await call.read() is not grpc.aio.EOF:
            pass

    await end_early(call, drain, how)
    await wait_for_clients(client, "xread", 0)


class GatedModel:
    """A stand-in embedding model that blocks until released, recording the
    texts it embeds and the threads it runs on; its vectors are random."""

    dim = 384
    # Its own model: a fresh Redis records it.
    identity = ModelIdentity("gated-stand-in", dim, "0" * 16)

    def __init__(self) -> None:
        self.running = threading.Event()
        self.release = threading.Event()
        self.threads: list[str] = []
        self.texts: list[str] = []
        self.timed_out = False

    def embed(self, texts: list[str]) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        self.texts += texts
        self.running.set()
        # A model run on the event loop would block the test too: it could
        # only go on once this wait times out.
        self.timed_out |= not self.release.wait(WITHIN_S)
        vectors = np.random.default_rng(len(texts)).standard_normal((len(texts), self.dim))
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


async def test_embedding_runs_off_the_event_loop_and_deadlines_hold(
    own_redis: EmbeddedRedis,
) -> None:
    model = GatedModel()
    embedder = BatchingEmbedder(model, cache_size=0)  # type: ignore[arg-type]
    try:
        async with serving(own_redis.url, embedder) as (_, channel):
            memories = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
            sessions = working_memory_pb2_grpc.WorkingMemoryStub(channel)
            create = asyncio.ensure_future(
                memories.CreateMemories(
                    ltm.CreateMemoriesRequest(
                        namespace="n", memories=[ltm.MemoryInput(text="Alice likes tea")]
                    )
                )
            )
            assert await asyncio.to_thread(model.running.wait, WITHIN_S)
            # While the model runs, cheap calls complete...
            await sessions.AppendTurns(
                wm.AppendTurnsRequest(
                    namespace="n", thread_id="t", turns=[wm.TurnInput(role="user", content="hi")]
                ),
                timeout=5,
            )
            await sessions.GetSession(wm.GetSessionRequest(namespace="n", thread_id="t"), timeout=5)
            # ...and a call waiting for the model ends at its deadline.
            late = memories.CreateMemories(
                ltm.CreateMemoriesRequest(namespace="n", memories=[ltm.MemoryInput(text="Bob")]),
                timeout=0.3,
            )
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await late
            assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
            # The server ends its side of the call at the deadline too, but
            # not necessarily before the client has seen it end.
            await eventually(
                lambda: embedder.callers_of("Bob") == 0, "the server gives up the late call"
            )
            assert not create.done()
            model.release.set()
            created = await create
            assert created.results[0].outcome == ltm.CREATE_OUTCOME_CREATED
            # The late call's text was dropped unembedded, and nothing was stored.
            assert model.texts == ["Alice likes tea"]
            anything = ltm.Vector(values=[1.0] + [0.0] * 383)
            found = await memories.SearchMemories(
                ltm.SearchMemoriesRequest(namespace="n", vector=anything, limit=10, max_distance=2)
            )
            assert [match.memory.text for match in found.matches] == ["Alice likes tea"]
    finally:
        model.release.set()
        await embedder.aclose()
    assert not model.timed_out
    assert model.threads
    assert all(name.startswith("memrpc-embed") for name in model.threads)


async def test_unary_calls_without_a_deadline_get_the_servers_default(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with serving(redis_server.url, embedder, default_call_timeout=0.5) as (_, channel):
        stub = event_log_pb2_grpc.EventLogStub(channel)
        await stub.CreateConsumerGroup(ev.CreateConsumerGroupRequest(namespace=ns, group="g"))
        request = ev.ReceiveEventsRequest(namespace=ns, group="g", consumer="c", wait=duration(1))
        # A deadline of the call's own is kept, longer than the default.
        assert not (await stub.ReceiveEvents(request, timeout=WITHIN_S)).events
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            async with asyncio.timeout(WITHIN_S):
                await stub.ReceiveEvents(request)
        metadata = assert_reason(
            ended.value, grpc.StatusCode.DEADLINE_EXCEEDED, "DEFAULT_DEADLINE_EXCEEDED"
        )
        assert metadata == {"timeoutMs": "500"}
        assert "--default-call-timeout" in (ended.value.details() or "")
        # Streams are exempt: a tail without a deadline outlives the default.
        tail = stub.TailEvents(
            ev.TailEventsRequest(
                namespace=ns,
                cursors=[ev.ThreadCursor(thread_id="t")],
                heartbeat_interval=duration(0.2),
            )
        )
        async with asyncio.timeout(WITHIN_S):
            for _ in range(6):  # over a second of checkpoints
                assert (await tail.read()).HasField("checkpoint")
        tail.cancel()
