"""memrpc served on a local Redis Cluster (3 primaries, a replica each),
through its gRPC API only: namespaces on every primary remember, recall (in
every mode), deduplicate, list and forget their memories, keep their
working memory, and tail their logs, each on its own primary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest

from conftest import make_settings, running
from memrpc.embedding import BatchingEmbedder
from memrpc.server import MemrpcServer
from memrpc.store.hash_slot import slot_of
from memrpc.v1 import event_log_pb2 as epb
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import working_memory_pb2 as wpb
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub
from redis_cluster import LocalCluster
from test_cluster_stores import namespaces_on

# How long a tail waits for an event it expects (generous: no timing assert).
TAIL_WAIT_S = 30.0
FACTS = ("prefers dark mode in every editor", "lives in Lisbon", "is allergic to peanuts")


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=1) as started:
        yield started


@pytest.fixture(scope="module")
async def server(cluster: LocalCluster, embedder: BatchingEmbedder) -> AsyncIterator[MemrpcServer]:
    url = "redis+cluster://" + ",".join(node.address for node in cluster.primaries())
    async with running(make_settings(url), embedder) as started:
        yield started


@pytest.fixture
async def channel(server: MemrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as opened:
        yield opened


async def test_namespaces_on_every_primary_remember_recall_and_forget(
    cluster: LocalCluster, channel: grpc.aio.Channel
) -> None:
    ltm = LongTermMemoryStub(channel)
    placed = namespaces_on(cluster, 1)
    assert len({node.node_id for node in placed.values()}) == 3
    for ns in placed:
        items = [lpb.MemoryInput(text=text, user_id="ann") for text in FACTS]
        created = await ltm.CreateMemories(lpb.CreateMemoriesRequest(namespace=ns, memories=items))
        assert [r.outcome for r in created.results] == [lpb.CREATE_OUTCOME_CREATED] * 3
        again = await ltm.CreateMemories(
            lpb.CreateMemoriesRequest(namespace=ns, memories=[items[1]])
        )
        [repeat] = again.results
        assert repeat.outcome == lpb.CREATE_OUTCOME_DUPLICATE
        assert repeat.memory.id == created.results[1].memory.id
        for mode in (lpb.RECALL_MODE_VECTOR, lpb.RECALL_MODE_KEYWORD, lpb.RECALL_MODE_HYBRID):
            found = await ltm.SearchMemories(
                lpb.SearchMemoriesRequest(namespace=ns, text="living in Lisbon", mode=mode)
            )
            assert found.matches, mode
            assert found.matches[0].memory.text == FACTS[1], mode
        listed = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ns))
        assert sorted(m.text for m in listed.memories) == sorted(FACTS)
        hits = {m.text: m.hit_count for m in listed.memories}
        assert hits[FACTS[1]] == 2
        await ltm.DeleteMemory(
            lpb.DeleteMemoryRequest(namespace=ns, memory_id=created.results[0].memory.id)
        )
        left = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ns))
        assert sorted(m.text for m in left.memories) == sorted(FACTS[1:])


async def test_working_memory_and_tails_on_every_primary(
    cluster: LocalCluster, channel: grpc.aio.Channel
) -> None:
    wm, log = WorkingMemoryStub(channel), EventLogStub(channel)
    placed = namespaces_on(cluster, 1)
    calls = {
        ns: log.TailEvents(
            epb.TailEventsRequest(namespace=ns, cursors=[epb.ThreadCursor(thread_id="t")])
        )
        for ns in placed
    }
    try:
        for call in calls.values():  # each tail's first message: its cursors
            async with asyncio.timeout(TAIL_WAIT_S):
                assert (await call.read()).HasField("checkpoint")
        for ns in placed:
            turns = [wpb.TurnInput(role="user", content=f"hello from {slot_of(ns)}")]
            await wm.AppendTurns(wpb.AppendTurnsRequest(namespace=ns, thread_id="t", turns=turns))
            context = await wm.GetContext(wpb.GetContextRequest(namespace=ns, thread_id="t"))
            assert [turn.content for turn in context.session.turns] == [turns[0].content]
        for ns, call in calls.items():
            async with asyncio.timeout(TAIL_WAIT_S):
                message = await call.read()
            assert message.event.thread_id == "t", ns
    finally:
        for call in calls.values():
            call.cancel()
