"""The background jobs' runner (`JobRunner(by_slot=True)`) on a Redis Cluster
(`ClusterMux`) of 3 primaries with a replica each, one for the module.

Namespaces on every primary: each slot's feeds read on a connection to its
own primary (one `XREADGROUP` per slot: two slots in one are `CROSSSLOT`),
every entry run once and acknowledged, and an entry whose job keeps failing
claimed again and dead-lettered on its own primary (`XPENDING`, `XCLAIM`,
`lua/job_dead_letter.lua`). A primary killed while a runner reads and tails
are open on its logs, its replica promoted: the entries delivered but not
acknowledged before are claimed again and run, the entries appended after
are run, and the tails go on with every event once, in order.

The failover test kills a primary: it runs last."""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import AsyncIterator

import pytest
import redis.exceptions

import memrpc.jobs.runner
from memrpc.jobs.base import group_of
from memrpc.jobs.runner import RunnerPolicy
from memrpc.store import keys
from memrpc.store.cluster_mux import ClusterMux
from memrpc.store.events import EventStore, Retention
from memrpc.store.job_feeds import feed_slot
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_errors import RedisUnavailable
from memrpc.tails import TailHub
from memrpc.tails import reader as tail_reader
from redis_cluster import LocalCluster, Node
from test_cluster_stores import MAX_LAG, namespaces_on, tailing
from test_faults import eventually
from test_job_runner import POLICY, TURN, Recorder, append, feeds_of, running, settled
from test_tails import append as append_events
from test_tails import ids, take

# How long the failover test waits for the replica's promotion at most.
FAILOVER_WAIT_S = 30.0
_PROBE_S = 0.1
# Entries delivered before the failover stay unacknowledged longer than the
# kill takes, so that they are claimed after it.
FAILOVER_POLICY = RunnerPolicy(claim_idle_s=3.0, max_deliveries=5)


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=1) as started_cluster:
        yield started_cluster


@pytest.fixture
async def client(cluster: LocalCluster) -> AsyncIterator[ClusterMux]:
    mux = ClusterMux(f"redis+cluster://{cluster.live()[0].address}")
    yield mux
    await mux.aclose()


@pytest.fixture(autouse=True)
def fast_refresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runners look for new namespaces every 50 ms instead of every 2 s."""
    monkeypatch.setattr(memrpc.jobs.runner, "JOB_NAMESPACES_REFRESH_S", 0.05)


def xreadgroup_clients(node: Node) -> int:
    """How many clients of `node` last sent an `XREADGROUP`."""
    return str(node.command("CLIENT", "LIST")).count("cmd=xreadgroup")


async def reading_each_slot_on_its_primary(client: ClusterMux, cluster: LocalCluster) -> bool:
    """Whether each primary has one reader per slot of the namespaces' feeds
    that it serves, as a runner of every namespace reads them."""
    slots = {feed_slot(ns) for ns in await NamespaceSet(client).members()}
    expected = collections.Counter(cluster.owner(slot).port for slot in slots)
    return all(xreadgroup_clients(node) == expected[node.port] for node in cluster.primaries())


async def test_each_slots_feeds_are_read_on_its_primary_and_every_entry_runs_once(
    cluster: LocalCluster, client: ClusterMux
) -> None:
    owners = namespaces_on(cluster, per_primary=2)
    # A namespace of each primary has a thread whose job keeps failing.
    failing = {
        next(ns for ns, node in owners.items() if node is primary)
        for primary in set(owners.values())
    }
    job = Recorder(fail={"bad"})
    for ns in owners:
        await append(client, ns, "t1", TURN)
        await append(client, ns, "t2", TURN, "agent.step")
        if ns in failing:
            await append(client, ns, "bad", TURN)
    async with asyncio.timeout(60), running(client, job, by_slot=True):
        for ns in owners:
            await eventually(lambda ns=ns: settled(client, ns, job), f"{ns} done")
        await eventually(
            lambda: reading_each_slot_on_its_primary(client, cluster), "a reader per slot"
        )
    expected = [(ns, thread) for ns in owners for thread in ("t1", "t2")]
    expected += [(ns, "bad") for ns in failing] * POLICY.max_deliveries
    assert job.threads_run(*owners) == sorted(expected)
    for ns in owners:
        dead = await client.execute("XRANGE", keys.dead_letters(ns), "-", "+")
        assert len(dead) == (1 if ns in failing else 0)
        # The stopped runner left the groups (it held no entry).
        assert await client.execute("XINFO", "CONSUMERS", keys.feed(ns), group_of(job)) == []


async def served(client: ClusterMux, key: str) -> None:
    """Waits (bounded) until a read of `key` is answered: by the primary
    of its slot once its replica has taken over."""
    deadline = time.monotonic() + FAILOVER_WAIT_S
    failures: list[Exception] = []
    while True:
        try:
            await client.execute("EXISTS", key)
            return
        except (redis.exceptions.ConnectionError, RedisUnavailable) as exc:
            failures.append(exc)
        assert time.monotonic() < deadline, f"no failover in {FAILOVER_WAIT_S} s: {failures[-3:]}"
        await asyncio.sleep(_PROBE_S)


async def test_a_failover_under_a_reading_runner_and_open_tails_loses_nothing(
    cluster: LocalCluster, client: ClusterMux, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The tails keep reading through the failover (by default they fail
    # after 5 s of failed reads, which a failover may take).
    monkeypatch.setattr(tail_reader, "GIVE_UP_S", FAILOVER_WAIT_S)
    owners = namespaces_on(cluster, per_primary=1)
    victim_ns, victim = next(iter(owners.items()))
    store = EventStore(client, Retention(log_max_len=1000, feed_max_len=100_000))
    hub = TailHub(store, max_lag=MAX_LAG, by_slot=True)
    job = Recorder()
    feeds = feeds_of(client, job)
    try:
        async with asyncio.timeout(120), tailing(hub, store, list(owners), "t") as subscriptions:
            before = {ns: await append_events(store, ns, "t", 3) for ns in owners}
            for ns, subscription in subscriptions.items():
                assert ids(await take(subscription, 3)) == before[ns]
            # Entries delivered to a consumer that dies without acknowledging
            # them, replicated (with every write before) before the kill.
            for thread in ("c1", "c2"):
                await append(client, victim_ns, thread, TURN)
            await feeds.ensure_group(victim_ns)
            async with feeds.reader(victim_ns) as crashed:
                taken = await feeds.read(crashed, [victim_ns], "crashed", count=10, block_ms=1)
                assert {"c1", "c2"} <= {entry.thread for entry in taken}
                assert await crashed.connection.execute("WAIT", 1, 5000) == 1
            async with running(client, job, policy=FAILOVER_POLICY, by_slot=True):
                await eventually(
                    lambda: reading_each_slot_on_its_primary(client, cluster), "the runner reading"
                )
                cluster.kill(victim)
                await served(client, keys.feed(victim_ns))
                assert cluster.owner(feed_slot(victim_ns)) is not victim
                after = {ns: await append_events(store, ns, "t", 3) for ns in owners}
                for ns in owners:
                    await append(client, ns, "after", TURN)
                for ns in owners:
                    await eventually(lambda ns=ns: settled(client, ns, job), f"{ns} done")
            for ns, subscription in subscriptions.items():
                assert ids(await take(subscription, 3)) == after[ns]
                assert subscription.failure is None
    finally:
        await hub.aclose()
    # The entries the crashed consumer held, claimed again and run; those
    # appended after the failover, run.
    runs = job.threads_run(*owners)
    assert {(victim_ns, "c1"), (victim_ns, "c2")} <= set(runs)
    assert {(ns, "after") for ns in owners} <= set(runs)
