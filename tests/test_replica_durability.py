"""`--durability replica`: a call that writes is answered once a replica
holds its writes (`store/replica_ack.py`, `rpc/durability.py`).

Each test owns a primary and a replica (`REPLICAOF`) on loopback ports. A
replica frozen with SIGSTOP cannot acknowledge anything, so a write then
fails with `UNAVAILABLE` (`ERROR_REASON_NOT_REPLICATED`) after the
timeout, deterministically, where `--durability local` answers it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import grpc
import pytest

from conftest import make_settings, running
from memrpc.config import SettingsError
from memrpc.embedded_redis import ServerBinary
from memrpc.embedding import BatchingEmbedder
from memrpc.store import keys
from memrpc.store.redis_mux import RedisMux
from memrpc.store.replica_ack import NotReplicatedError, ReplicaAck
from memrpc.v1 import event_log_pb2 as epb
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from redis_replica import Replicated, replicated
from support import assert_reason

pytestmark = pytest.mark.genuine_redis

T = TypeVar("T")
# The wait for a replica where one is frozen (each such call waits it out),
# and where none is (generous: a busy machine's replica may lag).
TIMEOUT_S = 0.3
HEALTHY_TIMEOUT_S = 2.0
# The failover test: appends per writer at most, and how many are answered
# before the primary is killed.
WRITES_PER_WRITER = 2000
KILL_AFTER = 100


@pytest.fixture
async def pair(tmp_path: Path, server_binary: ServerBinary) -> AsyncIterator[Replicated]:
    async with replicated(tmp_path, server_binary) as both:
        yield both


async def eventually_replicated(call: Callable[[], Awaitable[T]], tries: int = 20) -> T:
    """`call`'s reply, retried while it fails with NOT_REPLICATED."""
    for _ in range(tries - 1):
        try:
            return await call()
        except grpc.aio.AioRpcError as error:
            assert_reason(error, grpc.StatusCode.UNAVAILABLE, "NOT_REPLICATED")
    return await call()


@contextlib.asynccontextmanager
async def acknowledging(
    pair: Replicated,
    work: Path,
    embedder: BatchingEmbedder,
    timeout_s: float,
    durability: str = "replica",
) -> AsyncIterator[grpc.aio.Channel]:
    """A channel to a server on `pair`'s primary with `--durability replica`
    (or `durability`)."""
    settings = make_settings(
        pair.primary.url, work, durability=durability, durability_timeout=timeout_s
    )
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        yield channel


def memory(text: str, request_id: str = "") -> lpb.CreateMemoriesRequest:
    return lpb.CreateMemoriesRequest(
        namespace="dur", memories=[lpb.MemoryInput(text=text)], request_id=request_id
    )


async def test_an_acknowledged_write_is_on_the_replica(
    pair: Replicated, tmp_path: Path, embedder: BatchingEmbedder
) -> None:
    async with acknowledging(pair, tmp_path, embedder, HEALTHY_TIMEOUT_S) as channel:
        ltm, log = LongTermMemoryStub(channel), EventLogStub(channel)
        for number in range(10):
            created = await ltm.CreateMemories(memory(f"fact number {number}"))
            [result] = created.results
            # Read on the replica right after the answer, no waiting.
            assert await pair.on_replica.exists(keys.memory("dur", result.memory.id))
        appended = await log.AppendEvents(
            epb.AppendEventsRequest(
                namespace="dur", thread_id="t", events=[epb.EventInput(type="note")]
            )
        )
        assert await pair.on_replica.xlen(keys.events("dur", "t")) == len(appended.event_ids)


async def test_a_write_no_replica_confirms_fails_and_its_retry_returns_it(
    pair: Replicated, tmp_path: Path, embedder: BatchingEmbedder
) -> None:
    async with acknowledging(pair, tmp_path, embedder, TIMEOUT_S) as channel:
        ltm = LongTermMemoryStub(channel)
        request = memory("the lease ends in March", request_id="create-1")
        with pair.frozen():
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await ltm.CreateMemories(request)
            metadata = assert_reason(failed.value, grpc.StatusCode.UNAVAILABLE, "NOT_REPLICATED")
            assert metadata == {"replicas": "0", "required": "1", "timeoutMs": "300"}
            # Applied on the primary: a read (never held back) finds it.
            listed = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace="dur"))
            [first] = listed.memories
        # Retried as a client would, while the thawed replica catches up.
        retried = await eventually_replicated(lambda: ltm.CreateMemories(request))
        [result] = retried.results
        assert (result.memory.id, result.outcome) == (first.id, lpb.CREATE_OUTCOME_CREATED)
        assert await pair.on_replica.exists(keys.memory("dur", first.id))


@pytest.mark.parametrize("durability", ["local", "replica"])
async def test_a_failover_loses_acknowledged_writes_only_without_replica_durability(
    pair: Replicated, tmp_path: Path, embedder: BatchingEmbedder, durability: str
) -> None:
    """Writers append; the replica is cut off from its primary (`REPLICAOF NO
    ONE`: a partition, then its promotion), and the primary SIGKILLed. The
    replica lacks events whose append was answered with `local`, and none
    with `replica`, whose appends were not answered once it was cut off."""
    acknowledged: list[tuple[str, str]] = []

    async def writer(thread: str, log: EventLogStub) -> None:
        for number in range(WRITES_PER_WRITER):
            event = epb.EventInput(type="note", data=f"{thread} {number}".encode())
            request = epb.AppendEventsRequest(namespace="dur", thread_id=thread, events=[event])
            try:
                appended = await log.AppendEvents(request, timeout=10)
            except grpc.aio.AioRpcError:
                return  # the primary is gone: nothing more is acknowledged
            acknowledged.append((thread, appended.event_ids[0]))

    async def acknowledged_past(count: int) -> None:
        for _ in range(200):  # bounded: 2 s at most
            if len(acknowledged) >= count:
                return
            await asyncio.sleep(0.01)

    async with acknowledging(pair, tmp_path, embedder, HEALTHY_TIMEOUT_S, durability) as channel:
        log = EventLogStub(channel)
        writers = [asyncio.create_task(writer(f"w{n}", log)) for n in range(4)]
        await acknowledged_past(KILL_AFTER)
        assert len(acknowledged) >= KILL_AFTER
        await pair.on_replica.execute_command("REPLICAOF", "NO", "ONE")
        # `local` answers on; `replica` answers nothing now.
        await acknowledged_past(len(acknowledged) + KILL_AFTER)
        pair.primary.kill()
        await asyncio.gather(*writers)
    lost = [
        (thread, event_id)
        for thread, event_id in acknowledged
        if not await pair.on_replica.xrange(keys.events("dur", thread), event_id, event_id)
    ]
    if durability == "local":
        assert lost, "the cut-off replica missed nothing answered: the test proves nothing"
    else:
        assert lost == []


async def test_local_durability_answers_without_the_replica(
    pair: Replicated, tmp_path: Path, embedder: BatchingEmbedder
) -> None:
    async with (
        running(make_settings(pair.primary.url, tmp_path), embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        with pair.frozen():
            created = await LongTermMemoryStub(channel).CreateMemories(memory("no wait"))
        assert created.results[0].outcome == lpb.CREATE_OUTCOME_CREATED


async def test_concurrent_confirmations_share_one_round(pair: Replicated) -> None:
    client = RedisMux(pair.primary.url)
    ack = ReplicaAck(client, replicas=1, timeout_s=HEALTHY_TIMEOUT_S)
    try:
        await asyncio.gather(*(ack.confirm() for _ in range(50)))
        assert ack.rounds == 1
        with pair.frozen():
            failed = await asyncio.gather(
                *(ack.confirm() for _ in range(20)), return_exceptions=True
            )
        assert ack.rounds == 2
        assert all(isinstance(error, NotReplicatedError) for error in failed), failed
        # Rounds after the replica is back confirm again.
        for _ in range(20):
            with contextlib.suppress(NotReplicatedError):
                await ack.confirm()
                break
        else:
            raise AssertionError("the thawed replica confirmed no round")
    finally:
        await ack.aclose()


@pytest.mark.parametrize(
    ("url", "overrides", "says"),
    [
        (None, {}, "needs --redis-url"),
        (
            "redis://127.0.0.1:6379",
            {"durability_timeout": 5.0},
            "shorter than --redis-command-timeout",
        ),
    ],
)
def test_settings_refuse_what_cannot_hold(
    url: str | None, overrides: dict[str, object], says: str
) -> None:
    settings = make_settings(url, durability="replica", **overrides)
    with pytest.raises(SettingsError, match=says):
        settings.validate()
