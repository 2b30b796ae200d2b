"""Faults of a Redis Cluster under memrpc, served and called through its
API: a busy namespace's slot moved to another primary under load, and a
primary killed under `--durability replica`. No acknowledged write is
lost, no call answers wrongly, and every failure is a retryable
`UNAVAILABLE` (`ERROR_REASON_REDIS_UNAVAILABLE`, or `NOT_REPLICATED`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

import grpc
import pytest

from conftest import make_settings, running
from memrpc.embedding import BatchingEmbedder
from memrpc.store.hash_slot import slot_of
from memrpc.v1 import event_log_pb2 as epb
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from redis_cluster import LocalCluster, Node
from support import error_info
from test_cluster_stores import a_move, namespaces_on

T = TypeVar("T")
# What a call may answer while a slot moves or a primary fails over.
RETRYABLE = {"ERROR_REASON_REDIS_UNAVAILABLE", "ERROR_REASON_NOT_REPLICATED"}
# Bounds of every loop: attempts of one call, and seconds of load.
ATTEMPTS = 200
LOAD_S = 60.0
# Keys moved per MIGRATE while the slot moves, and the pause between two.
MOVE_BATCH = 2
MOVE_PAUSE_S = 0.05
# How long a replica's promotion may take at most.
PROMOTION_S = 30.0
# Callers writing and searching the namespace at once.
WRITERS = 2
FACT = "the quarterly report is due on the first monday of the month"


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=1) as started:
        yield started


def cluster_url(cluster: LocalCluster) -> str:
    return "redis+cluster://" + ",".join(node.address for node in cluster.primaries())


class Outcomes:
    """What the calls of a run met: the retryable errors, by reason."""

    def __init__(self) -> None:
        self.retried: dict[str, int] = {}

    async def until_done(self, call: Callable[[], Awaitable[T]]) -> T:
        """`call()` until it succeeds, retrying (after a short pause) only
        the retryable errors; anything else fails the test."""
        for _ in range(ATTEMPTS):
            try:
                return await call()
            except grpc.aio.AioRpcError as err:
                reason = error_info(err).reason
                if err.code() != grpc.StatusCode.UNAVAILABLE or reason not in RETRYABLE:
                    raise AssertionError(
                        f"not retryable: {err.code()} {reason} {err.details()}"
                    ) from err
                self.retried[reason] = self.retried.get(reason, 0) + 1
                await asyncio.sleep(0.05)
        raise AssertionError(f"no success in {ATTEMPTS} attempts")


async def all_memories(ltm: LongTermMemoryStub, ns: str, outcomes: Outcomes) -> list[lpb.Memory]:
    found: list[lpb.Memory] = []
    token = ""
    for _ in range(ATTEMPTS):
        request = lpb.ListMemoriesRequest(namespace=ns, page_size=100, page_token=token)
        page = await outcomes.until_done(lambda r=request: ltm.ListMemories(r))
        found += page.memories
        token = page.next_page_token
        if not token:
            return found
    raise AssertionError("too many pages")


async def all_events(log: EventLogStub, ns: str, thread: str, outcomes: Outcomes) -> list[str]:
    found: list[str] = []
    token = ""
    for _ in range(ATTEMPTS):
        request = epb.ListEventsRequest(
            namespace=ns, thread_id=thread, page_size=500, page_token=token
        )
        page = await outcomes.until_done(lambda r=request: log.ListEvents(r))
        found += [event.id for event in page.events]
        token = page.next_page_token
        if not token:
            return found
    raise AssertionError("too many pages")


async def load(  # noqa: PLR0917 (the load's parts)
    ltm: LongTermMemoryStub,
    log: EventLogStub,
    ns: str,
    writer: int,
    outcomes: Outcomes,
    stop: asyncio.Event,
) -> tuple[dict[str, str], list[str], int]:
    """Writes (as `writer`) and searches `ns` until `stop`: each create and
    append once
    (request ids make retries safe), each search expecting `FACT` first.
    Returns the memories acknowledged (text: id), the events acknowledged,
    and how many searches answered."""
    created: dict[str, str] = {}
    appended: list[str] = []
    searched = 0
    deadline = time.monotonic() + LOAD_S
    for number in range(10_000):
        if stop.is_set() or time.monotonic() > deadline:
            break
        text = f"load note {writer}.{number}: item {number * 7919 % 10007} of writer {writer}"
        create = lpb.CreateMemoriesRequest(
            namespace=ns,
            memories=[lpb.MemoryInput(text=text)],
            request_id=f"c-{writer}-{number}",
            dedup_max_distance=0.0,  # the notes are alike: exact repeats only
        )
        reply = await outcomes.until_done(lambda r=create: ltm.CreateMemories(r))
        [result] = reply.results
        assert result.outcome == lpb.CREATE_OUTCOME_CREATED, text
        created[text] = result.memory.id
        append = epb.AppendEventsRequest(
            namespace=ns, thread_id=f"t{writer}", events=[epb.EventInput(type="note")],
            request_id=f"a-{writer}-{number}",
        )  # fmt: skip
        appended += (await outcomes.until_done(lambda r=append: log.AppendEvents(r))).event_ids
        search = lpb.SearchMemoriesRequest(namespace=ns, text=FACT, limit=3)
        found = await outcomes.until_done(lambda r=search: ltm.SearchMemories(r))
        assert found.matches, "a search missed the memory it must find"
        assert found.matches[0].memory.text == FACT  # never from half the namespace
        searched += 1
    return created, appended, searched


def move_slowly(cluster: LocalCluster, slot: int, source: Node, target: Node) -> int:
    """Moves `slot` from `source` to `target`, `MOVE_BATCH` keys at a time
    with pauses, so the namespace spends a while split between them; how
    many keys moved."""
    cluster.begin_slot_move(slot, source, target)
    moved = 0
    for _ in range(10_000):
        batch = cluster.migrate_keys(slot, source, target, MOVE_BATCH)
        if not batch:
            break
        moved += len(batch)
        time.sleep(MOVE_PAUSE_S)
    cluster.finish_slot_move(slot, target)
    return moved


async def test_a_busy_namespace_moved_to_another_primary_loses_nothing(
    cluster: LocalCluster, embedder: BatchingEmbedder
) -> None:
    ns, slot, source, target = a_move(cluster)
    outcomes = Outcomes()
    async with (
        running(make_settings(cluster_url(cluster)), embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        ltm, log = LongTermMemoryStub(channel), EventLogStub(channel)
        fact = lpb.CreateMemoriesRequest(namespace=ns, memories=[lpb.MemoryInput(text=FACT)])
        await ltm.CreateMemories(fact)
        stop = asyncio.Event()
        writers = [
            asyncio.ensure_future(load(ltm, log, ns, writer, outcomes, stop))
            for writer in range(WRITERS)
        ]
        await asyncio.sleep(0.5)  # load before the move
        moved = await asyncio.to_thread(move_slowly, cluster, slot, source, target)
        await asyncio.sleep(0.5)  # and after it
        stop.set()
        done = await asyncio.gather(*writers)
        assert moved > 0
        assert cluster.owner(slot) is target
        memories = await all_memories(ltm, ns, outcomes)
        threads = [await all_events(log, ns, f"t{writer}", outcomes) for writer in range(WRITERS)]
    created = {text: memory_id for made, _, _ in done for text, memory_id in made.items()}
    texts = [memory.text for memory in memories]
    assert sorted(texts) == sorted([FACT, *created])  # each acknowledged one, once
    assert {memory.text: memory.id for memory in memories if memory.text != FACT} == created
    # Every acknowledged event, once, in order.
    assert threads == [appended for _, appended, _ in done]
    assert all(searched > 0 for _, _, searched in done)
    assert outcomes.retried, "no call met the moving slot: the test moved it too fast"


async def test_a_primary_killed_under_durability_replica_loses_no_acknowledged_write(
    cluster: LocalCluster, embedder: BatchingEmbedder
) -> None:
    """Runs last: it kills a primary (its replica takes over; the killed
    one comes back as that one's replica)."""
    ns = next(iter(namespaces_on(cluster, 1)))
    victim = cluster.owner(slot_of(ns))
    outcomes = Outcomes()
    settings = make_settings(cluster_url(cluster), durability="replica", durability_timeout=1.0)
    async with (
        running(settings, embedder) as server,
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        ltm, log = LongTermMemoryStub(channel), EventLogStub(channel)
        fact = lpb.CreateMemoriesRequest(namespace=ns, memories=[lpb.MemoryInput(text=FACT)])
        await outcomes.until_done(lambda: ltm.CreateMemories(fact))
        stop = asyncio.Event()
        writers = [
            asyncio.ensure_future(load(ltm, log, ns, writer, outcomes, stop))
            for writer in range(WRITERS)
        ]
        await asyncio.sleep(0.5)
        cluster.kill(victim)
        await asyncio.to_thread(promoted, cluster, slot_of(ns), victim)
        # The killed primary comes back as a replica: writes hold again.
        await asyncio.to_thread(cluster.restart, victim)
        await asyncio.to_thread(cluster.wait_ok)
        await asyncio.sleep(0.5)
        stop.set()
        done = await asyncio.gather(*writers)
        memories = await all_memories(ltm, ns, outcomes)
        threads = [await all_events(log, ns, f"t{writer}", outcomes) for writer in range(WRITERS)]
    created = {text: memory_id for made, _, _ in done for text, memory_id in made.items()}
    assert {memory.text: memory.id for memory in memories if memory.text != FACT} == created
    assert threads == [appended for _, appended, _ in done]
    assert outcomes.retried, "no call met the failover"


def promoted(cluster: LocalCluster, slot: int, victim: Node) -> None:
    """Waits (bounded) until a live primary other than `victim` serves `slot`."""
    deadline = time.monotonic() + PROMOTION_S
    while time.monotonic() < deadline:
        live = cluster.live()
        if live and any(
            int(low) <= slot <= int(high) and int(primary[1]) != victim.port
            for low, high, primary, *_ in live[0].command("CLUSTER", "SLOTS")
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"slot {slot} not served by a promoted replica in {PROMOTION_S} s")
