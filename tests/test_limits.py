"""Configurable limits: request content over a limit is INVALID_ARGUMENT
naming the field and the limit; tails over a concurrency cap, and a tail
whose client stops reading, end with RESOURCE_EXHAUSTED."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import grpc
import pytest

from conftest import make_settings, running
from memrpc.cli import main
from memrpc.config import Settings
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.limits import Limits
from memrpc.server import MemrpcServer
from memrpc.tails.subscription import MAX_QUEUED_BYTES
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import working_memory_pb2 as wm
from support import assert_invalid, assert_reason

# Generous bound on any single wait; tests never rely on it being tight.
TIMEOUT = 10.0
SMALL = {
    "max_message_bytes": 256 * 1024,
    "max_batch_items": 3,
    "max_text_chars": 20,
    "max_metadata_bytes": 50,
    "max_search_limit": 5,
    "max_tails_per_caller": 2,
    "max_tails": 3,
    "tail_max_lag_events": 100,
}
# 51 bytes of UTF-8 in 26 characters: over the 50-byte metadata limit.
BIG_METADATA = {"k": "é" * 25}


def test_defaults_are_the_documented_limits() -> None:
    assert Limits.from_settings(Settings()) == Limits(
        max_message_bytes=16 * 1024 * 1024,
        max_batch_items=100,
        max_text_chars=8192,
        max_metadata_bytes=256 * 1024,
        max_search_limit=100,
        max_tails_per_caller=100,
        max_tails=2000,
        tail_max_lag_events=10_000,
        max_tail_lifetime=0.0,
    )


@pytest.mark.parametrize(
    ("flag", "error"),
    [
        ("--max-batch-items=0", "--max-batch-items must be at least 1"),
        ("--tail-max-lag-events=99", "--tail-max-lag-events must be at least 100"),
        ("--event-log-max-len=0", "--event-log-max-len must be 1 to 1,000,000"),
        ("--event-log-max-len=1000001", "--event-log-max-len must be 1 to 1,000,000"),
        ("--feed-max-len=0", "--feed-max-len must be at least 1"),
    ],
)
def test_a_limit_out_of_range_is_refused_at_startup(
    flag: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["serve", "--listen=127.0.0.1:0", flag])
    assert exited.value.code == 2
    assert error in capsys.readouterr().err


@contextlib.asynccontextmanager
async def serving(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, **limits: int
) -> AsyncIterator[MemrpcServer]:
    # On 127.0.0.1 and ::1: two client addresses, so two callers.
    settings = make_settings(redis_server.url, listen="localhost:0", **limits)
    async with running(settings, embedder, grace=0.5) as server:
        yield server


def connect(server: MemrpcServer, host: str = "127.0.0.1") -> grpc.aio.Channel:
    """A channel on a connection of its own."""
    return grpc.aio.insecure_channel(
        f"{host}:{server.port}", options=[("grpc.use_local_subchannel_pool", 1)]
    )


@pytest.fixture(scope="module")
async def small(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder
) -> AsyncIterator[MemrpcServer]:
    async with serving(redis_server, embedder, **SMALL) as server:
        yield server


@pytest.fixture
async def small_channel(small: MemrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with connect(small) as chan:
        yield chan


async def invalid(call: Awaitable[object], field: str, limit: str) -> None:
    """Asserts that a call fails with INVALID_ARGUMENT naming `field` and `limit`."""
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    assert_invalid(failed.value, field)
    assert limit in (failed.value.details() or ""), failed.value.details()


async def test_request_content_over_a_limit_names_the_field_and_the_limit(
    small_channel: grpc.aio.Channel, ns: str
) -> None:
    memories = long_term_memory_pb2_grpc.LongTermMemoryStub(small_channel)
    sessions = working_memory_pb2_grpc.WorkingMemoryStub(small_channel)
    events = event_log_pb2_grpc.EventLogStub(small_channel)
    memory = ltm.MemoryInput(text="short")
    event = ev.EventInput(type="e")
    turn = wm.TurnInput(role="user", content="hi")

    await invalid(
        memories.CreateMemories(ltm.CreateMemoriesRequest(namespace=ns, memories=[memory] * 4)),
        "memories",
        "at most 3 items",
    )
    await invalid(
        events.AppendEvents(
            ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[event] * 4)
        ),
        "events",
        "at most 3 items",
    )
    await invalid(
        sessions.AppendTurns(wm.AppendTurnsRequest(namespace=ns, thread_id="t", turns=[turn] * 4)),
        "turns",
        "at most 3 items",
    )
    long = ltm.MemoryInput(text="x" * 21)
    await invalid(
        memories.CreateMemories(ltm.CreateMemoriesRequest(namespace=ns, memories=[long])),
        "memories[0].text",
        "at most 20 characters",
    )
    await invalid(
        memories.SearchMemories(ltm.SearchMemoriesRequest(namespace=ns, text="x" * 21)),
        "text",
        "at most 20 characters",
    )
    await invalid(
        memories.SearchMemories(ltm.SearchMemoriesRequest(namespace=ns, text="x", limit=6)),
        "limit",
        "between 1 and 5",
    )
    metadata_over: list[tuple[Awaitable[object], str]] = [
        (
            memories.CreateMemories(
                ltm.CreateMemoriesRequest(
                    namespace=ns, memories=[ltm.MemoryInput(text="x", metadata=BIG_METADATA)]
                )
            ),
            "memories[0].metadata",
        ),
        (
            events.AppendEvents(
                ev.AppendEventsRequest(
                    namespace=ns,
                    thread_id="t",
                    events=[ev.EventInput(type="e", attributes=BIG_METADATA)],
                )
            ),
            "events[0].attributes",
        ),
        (
            sessions.AppendTurns(
                wm.AppendTurnsRequest(
                    namespace=ns,
                    thread_id="t",
                    turns=[wm.TurnInput(role="user", metadata=BIG_METADATA)],
                )
            ),
            "turns[0].metadata",
        ),
        (
            sessions.UpdateSession(
                wm.UpdateSessionRequest(
                    namespace=ns, thread_id="t", session=wm.SessionInput(metadata=BIG_METADATA)
                )
            ),
            "session.metadata",
        ),
    ]
    for call, field in metadata_over:
        await invalid(call, field, "at most 50 bytes")
    # At the limits, all is well.
    fits = ltm.MemoryInput(text="x" * 20, metadata={"k": "é" * 24})  # 49 bytes
    created = await memories.CreateMemories(
        ltm.CreateMemoriesRequest(namespace=ns, memories=[fits] * 3)
    )
    assert len(created.results) == 3
    await events.AppendEvents(
        ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[event] * 3)
    )
    found = await memories.SearchMemories(
        ltm.SearchMemoriesRequest(namespace=ns, text="x" * 20, limit=5)
    )
    assert len(found.matches) >= 1


async def test_a_message_over_the_size_limit_is_resource_exhausted(
    small_channel: grpc.aio.Channel, ns: str
) -> None:
    events = event_log_pb2_grpc.EventLogStub(small_channel)
    big = ev.EventInput(type="e", data=b"x" * (256 * 1024))
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await events.AppendEvents(ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[big]))
    assert failed.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, failed.value.details()


async def open_tail(channel: grpc.aio.Channel, ns: str) -> grpc.aio.UnaryStreamCall:  # type: ignore[type-arg]
    """A tail of a new thread, once the server sent its first checkpoint."""
    request = ev.TailEventsRequest(namespace=ns, cursors=[ev.ThreadCursor(thread_id="t")])
    call = event_log_pb2_grpc.EventLogStub(channel).TailEvents(request)
    first = await asyncio.wait_for(call.read(), TIMEOUT)
    assert isinstance(first, ev.TailEventsResponse), first
    assert first.HasField("checkpoint")
    return call


async def refused(channel: grpc.aio.Channel, ns: str, reason: str, *words: str) -> None:
    """Asserts that a new tail ends with RESOURCE_EXHAUSTED for `reason`,
    saying `words`."""
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await open_tail(channel, ns)
    assert_reason(failed.value, grpc.StatusCode.RESOURCE_EXHAUSTED, reason)
    for word in words:
        assert word in (failed.value.details() or ""), failed.value.details()


async def eventually(check: Callable[[], bool], what: str) -> None:
    async with asyncio.timeout(TIMEOUT):
        while not check():  # noqa: ASYNC110 - polling the server's own state
            await asyncio.sleep(0.01)


async def test_tails_are_capped_per_caller_and_per_server(small: MemrpcServer, ns: str) -> None:
    # Without authentication a caller is a client address, whatever its connections.
    async with connect(small) as a, connect(small) as b, connect(small, "[::1]") as c:
        first = [await open_tail(a, ns), await open_tail(b, ns)]
        for same_caller in (a, b):
            await refused(
                same_caller,
                ns,
                "CALLER_TAILS_EXCEEDED",
                "for this caller",
                "the limit is 2",
                "--max-tails-per-caller",
            )
        await open_tail(c, ns)
        await refused(
            c, ns, "SERVER_TAILS_EXCEEDED", "on this server", "the limit is 3", "--max-tails"
        )
        # A tail that ends frees its place.
        first[0].cancel()
        await eventually(lambda: small.tails.stats().subscriptions == 2, "the tail to end")
        await open_tail(a, ns)


async def read_to_the_end(call: grpc.aio.UnaryStreamCall) -> None:  # type: ignore[type-arg]
    while await call.read() is not grpc.aio.EOF:
        pass


@pytest.mark.parametrize("read", [0, 1])
async def test_a_tail_whose_client_stops_reading_is_ended_and_its_memory_stays_bounded(
    redis_server: EmbeddedRedis, embedder: BatchingEmbedder, ns: str, read: int
) -> None:
    async with (
        serving(redis_server, embedder, tail_max_lag_events=100, max_tails_per_caller=1) as srv,
        connect(srv) as stalled,
        connect(srv) as writer,
    ):
        request = ev.TailEventsRequest(namespace=ns, cursors=[ev.ThreadCursor(thread_id="t")])
        tail = event_log_pb2_grpc.EventLogStub(stalled).TailEvents(request)
        for _ in range(read):
            await tail.read()
        await eventually(lambda: srv.tails.stats().subscriptions == 1, "the tail to start")
        # 64 KiB events until the server gives up on the tail (client and
        # server buffers fill first, then the hub's queue, then the lag grows).
        event = ev.EventInput(type="e", data=b"x" * 65536)
        append = event_log_pb2_grpc.EventLogStub(writer).AppendEvents
        appended = most_queued = 0
        while not srv.tails.stats().failed and appended < 1000:
            await append(ev.AppendEventsRequest(namespace=ns, thread_id="t", events=[event] * 10))
            appended += 10
            await asyncio.sleep(0.01)
            most_queued = max(most_queued, srv.tails.stats().queued_bytes)
        stats = srv.tails.stats()
        assert stats.failed == 1, f"still followed after {appended} events"
        assert (stats.queued_events, stats.queued_bytes) == (0, 0)
        assert 0 < most_queued <= MAX_QUEUED_BYTES < appended * 65536 // 2
        # What was sent comes first, then the status.
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await asyncio.wait_for(read_to_the_end(tail), TIMEOUT)
        metadata = assert_reason(ended.value, grpc.StatusCode.RESOURCE_EXHAUSTED, "TAIL_TOO_SLOW")
        assert metadata == {"limit": "100", "setting": "--tail-max-lag-events"}
        details = ended.value.details() or ""
        assert details.startswith("subscriber too slow: "), details
        assert "events behind, the limit is 100" in details, details
        assert details.endswith("resume from the last cursor received"), details
        # The tail is gone, and its caller's place free.
        await eventually(lambda: srv.tails.stats().subscriptions == 0, "the tail to end")
        await open_tail(stalled, ns)
