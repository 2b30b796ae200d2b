"""memrpc's stores on a Redis Cluster (`ClusterMux`) of 3 primaries.

Tails (`TailHub(by_slot=True)`): the logs of namespaces on every primary
tailed at once, each slot read on a connection to its own primary (one
`XREAD` per slot: two slots of one node in one `XREAD` are `CROSSSLOT`), a
new log of a slot ending that slot's read in flight (`CLIENT UNBLOCK` on
its node), and a slot moved to another primary read there, with nothing
lost. The model records: claimed with a move in one script (their two keys
share a slot). `--durability replica`: a round confirms every primary, and
fails while one's replica acknowledges nothing."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest

from memrpc.embedding import ModelIdentity
from memrpc.store import keys
from memrpc.store.cluster_mux import ClusterMux
from memrpc.store.events import EventStore, Retention
from memrpc.store.hash_slot import slot_of
from memrpc.store.model_record import claim
from memrpc.store.replica_ack import NotReplicatedError, ReplicaAck
from memrpc.tails import Subscription, TailHub
from memrpc.tails import reader as tail_reader
from redis_cluster import LocalCluster, Node
from test_tails import append, ids, last_id, take

MAX_LAG = 100_000


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=0) as started:
        yield started


@pytest.fixture
async def store(cluster: LocalCluster) -> AsyncIterator[EventStore]:
    client = ClusterMux(f"redis+cluster://{cluster.live()[0].address}")
    yield EventStore(client, Retention(log_max_len=1000, feed_max_len=100_000))
    await client.aclose()


@pytest.fixture
async def hub(store: EventStore) -> AsyncIterator[TailHub]:
    tails = TailHub(store, max_lag=MAX_LAG, by_slot=True)
    yield tails
    await tails.aclose()


def namespaces_on(cluster: LocalCluster, per_primary: int) -> dict[str, Node]:
    """`per_primary` fresh namespaces of distinct slots on each primary."""
    found: dict[str, Node] = {}
    for _ in range(10_000):
        ns = uuid.uuid4().hex[:10]
        owner = cluster.owner(slot_of(ns))
        if sum(node is owner for node in found.values()) < per_primary:
            found[ns] = owner
        if len(found) == per_primary * len(cluster.primaries()):
            return found
    raise AssertionError("no namespaces found for every primary")


def a_move(cluster: LocalCluster) -> tuple[str, int, Node, Node]:
    """A fresh namespace, its slot, the primary serving it, and another
    primary to move it to."""
    ns = next(iter(namespaces_on(cluster, 1)))
    slot = slot_of(ns)
    source = cluster.owner(slot)
    return ns, slot, source, next(node for node in cluster.primaries() if node is not source)


def xread_clients(node: Node) -> list[str]:
    """The clients of `node` whose last command is an `XREAD`."""
    return [line for line in node.command("CLIENT", "LIST").splitlines() if "cmd=xread" in line]


@contextlib.asynccontextmanager
async def tailing(
    hub: TailHub, store: EventStore, namespaces: Sequence[str], threads: Sequence[str]
) -> AsyncIterator[dict[str, Subscription]]:
    """A subscription to `threads` of each namespace, from their last event."""
    async with contextlib.AsyncExitStack() as stack:
        subscriptions = {}
        for ns in namespaces:
            cursors = {thread: await last_id(store, ns, thread) for thread in threads}
            subscriptions[ns] = await stack.enter_async_context(hub.subscribe(ns, cursors))
        yield subscriptions


async def test_logs_on_every_primary_are_tailed_each_slot_on_its_node(
    cluster: LocalCluster, store: EventStore, hub: TailHub
) -> None:
    owners = namespaces_on(cluster, per_primary=2)
    async with asyncio.timeout(60), tailing(hub, store, list(owners), "ab") as subscriptions:
        appended: dict[str, dict[str, list[str]]] = {ns: {"a": [], "b": []} for ns in owners}
        for round_ in range(3):
            for ns in owners:
                thread = "ab"[round_ % 2]
                appended[ns][thread] += await append(store, ns, thread, 2)
        for ns, subscription in subscriptions.items():
            got = await take(subscription, 6)
            # In order within each thread.
            assert {t: [e.id for e in got if e.thread == t] for t in "ab"} == appended[ns]
        # One read per slot, on the slot's primary: two on each.
        for node in cluster.primaries():
            assert len(xread_clients(node)) == 2, (node.port, xread_clients(node))


async def test_a_new_log_ends_its_slots_read_on_its_node(
    cluster: LocalCluster, store: EventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reads that block longer than the test waits: only an interrupt makes
    # a reader read a new log.
    monkeypatch.setattr(tail_reader, "READ_BLOCK_MS", 600_000)
    hub = TailHub(store, max_lag=MAX_LAG, by_slot=True)
    try:
        ns = next(iter(namespaces_on(cluster, 1)))
        async with asyncio.timeout(30), tailing(hub, store, [ns], "a") as first:
            owner = cluster.owner(slot_of(ns))
            for _ in range(600):  # bounded: the timeout above ends it sooner
                if xread_clients(owner):
                    break
                await asyncio.sleep(0.05)
            async with tailing(hub, store, [ns], "b") as joined:
                (new,) = await append(store, ns, "b")
                assert ids(await take(joined[ns], 1)) == [new]
            (new,) = await append(store, ns, "a")
            assert ids(await take(first[ns], 1)) == [new]
    finally:
        await hub.aclose()


async def test_a_moved_slot_is_read_on_its_new_primary_and_nothing_is_lost(
    cluster: LocalCluster, store: EventStore, hub: TailHub
) -> None:
    owners = namespaces_on(cluster, per_primary=1)
    ns = next(iter(owners))
    source = owners[ns]
    target = next(node for node in cluster.primaries() if node is not source)
    async with asyncio.timeout(60), tailing(hub, store, [ns], "t") as subscriptions:
        before = await append(store, ns, "t", 3)
        assert ids(await take(subscriptions[ns], 3)) == before
        await asyncio.to_thread(cluster.move_slot, slot_of(ns), source, target)
        after = await append(store, ns, "t", 3)
        assert ids(await take(subscriptions[ns], 3)) == after
        assert subscriptions[ns].failure is None
        assert xread_clients(target)
        assert keys.events(ns, "t") not in str(xread_clients(source))


async def test_the_model_records_are_claimed_in_one_script(cluster: LocalCluster) -> None:
    client = ClusterMux(f"redis+cluster://{cluster.live()[0].address}")
    try:
        mine = ModelIdentity("mine", 384, "00aa")
        target = ModelIdentity("next", 768, "00bb")
        first = await claim(client, mine, now_ms=1000, next=target)
        assert first.recorded_now
        assert first.next is not None
        assert first.next.identity == target
        again = await claim(client, target, now_ms=2000)
        assert (again.identity, again.recorded_now) == (mine, False)
    finally:
        await client.aclose()


@pytest.fixture(scope="module")
async def replicated_cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=1) as started:
        yield started


async def test_a_replica_ack_round_confirms_every_primary(
    replicated_cluster: LocalCluster,
) -> None:
    cluster = replicated_cluster
    client = ClusterMux(f"redis+cluster://{cluster.live()[0].address}")
    ack = ReplicaAck(client, replicas=1, timeout_s=2.0)
    try:
        routes = await client.keys_per_primary(keys.replica_ack())
        assert {cluster.owner(slot_of(route)).port for route in routes} == {
            node.port for node in cluster.primaries()
        }
        await ack.confirm()
        for route in routes:  # each counter on its own primary, replicated
            owner = cluster.owner(slot_of(route))
            assert owner.command("GET", route) == "1"
        # A primary whose replica acknowledges nothing fails the round.
        replica = cluster.replicas_of(cluster.primaries()[1])[0]
        assert replica.proc is not None
        replica.proc.send_signal(signal.SIGSTOP)
        try:
            with pytest.raises(NotReplicatedError):
                await ReplicaAck(client, replicas=1, timeout_s=0.3).confirm()
        finally:
            replica.proc.send_signal(signal.SIGCONT)
    finally:
        await ack.aclose()
