"""Long-term memory on a local Redis Cluster (3 primaries): an index per
primary (`store/memory_indexes.py`), each namespace's searches, dedup,
updates, listings and deletions on the primary serving it, and a namespace
whose slot moves answering only retryable errors until it has moved, then
everything from its new primary."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import pytest

from memrpc.store import keys
from memrpc.store.cluster_mux import ClusterMux
from memrpc.store.events import Retention
from memrpc.store.forgetting import ForgettingStore, Forgot
from memrpc.store.hash_slot import slot_of
from memrpc.store.long_term import DuplicateMemoryError, LongTermStore, MemoryPatch, NewMemory
from memrpc.store.memory_changes import ForgetRule
from memrpc.store.memory_index import INDEX, MemoryFilter
from memrpc.store.memory_listing import Order
from memrpc.store.redis_errors import RedisUnavailable
from redis_cluster import LocalCluster
from test_cluster_stores import a_move, namespaces_on
from test_long_term_memory import DIM, unit_vectors

T = TypeVar("T")
# Attempts of a call that may meet the retryable error of a slot just
# moved (or of an index still reading), and the pause between two.
RETRIES = 100
RETRY_PAUSE_S = 0.05


@pytest.fixture(scope="module")
async def cluster() -> AsyncIterator[LocalCluster]:
    async with LocalCluster(primaries=3, replicas=0) as started:
        yield started


@pytest.fixture
async def client(cluster: LocalCluster) -> AsyncIterator[ClusterMux]:
    mux = ClusterMux(f"redis+cluster://{cluster.live()[0].address}")
    yield mux
    await mux.aclose()


@pytest.fixture
async def store(client: ClusterMux) -> LongTermStore:
    long_term = LongTermStore(client, dim=DIM)
    await long_term.ensure_index()
    return long_term


def memories(count: int, seed: int, prefix: str) -> list[NewMemory]:
    vectors = unit_vectors(count, seed=seed)
    return [NewMemory(f"{prefix} fact {i}", vectors[i]) for i in range(count)]


async def test_every_primary_has_its_own_index_named_for_one_of_its_slots(
    cluster: LocalCluster, store: LongTermStore
) -> None:
    for node in cluster.primaries():
        [name] = [str(n) for n in node.command("FT._LIST") if str(n).startswith(INDEX)]
        assert cluster.owner(cluster.slot_of(name)) is node
    assert await store.ensure_index() == []  # a second start finds them all


async def test_each_namespace_is_searched_deduplicated_and_listed_on_its_primary(
    cluster: LocalCluster, store: LongTermStore
) -> None:
    placed = namespaces_on(cluster, 1)
    for seed, ns in enumerate(placed):
        news = memories(4, seed=seed, prefix=ns)
        made = await store.create(ns, news, max_distance=0.1)
        assert all(c.created for c in made)
        [again] = await store.create(ns, [news[1]], max_distance=0.1)
        assert not again.created
        assert again.memory.id == made[1].memory.id
        [match] = await store.search(
            ns, news[2].embedding, MemoryFilter(), limit=1, max_distance=0.1
        )
        assert match.memory.id == made[2].memory.id
        assert match.memory.text == news[2].text  # read from the Hash by the script
        newest = await store.list_page(ns, MemoryFilter(), Order.NEWEST, None, count=10)
        assert [m.id for m in newest.memories] == sorted((c.memory.id for c in made), reverse=True)
        most_hit = await store.list_page(ns, MemoryFilter(), Order.MOST_HIT, None, count=1)
        assert [(m.id, m.hit_count) for m in most_hit.memories] == [(made[1].memory.id, 2)]
        # An update whose new text repeats another memory is refused.
        with pytest.raises(DuplicateMemoryError):
            await store.update(
                ns,
                made[0].memory.id,
                MemoryPatch(text=news[3].text, embedding=news[3].embedding),
                max_distance=0.1,
            )
        assert await store.delete_matching(ns, MemoryFilter()) == 4
    # Each namespace's deletion found its memories in its primary's index.
    for ns in placed:
        left = await store.list_page(ns, MemoryFilter(), Order.NEWEST, None, count=10)
        assert left.memories == []


async def retried(call: Callable[[], Awaitable[T]]) -> T:
    """`call()` until it does not fail with a retryable error (a slot that
    has just moved: the first call learns it)."""
    for _ in range(RETRIES):
        try:
            return await call()
        except RedisUnavailable:
            await asyncio.sleep(RETRY_PAUSE_S)
    return await call()


async def test_a_moving_namespace_answers_retryable_errors_then_everything_from_its_new_primary(
    cluster: LocalCluster, store: LongTermStore
) -> None:
    ns, slot, source, target = a_move(cluster)
    news = memories(6, seed=40, prefix="moving")
    made = await store.create(ns, news, max_distance=0.1)
    flt = MemoryFilter()
    cluster.begin_slot_move(slot, source, target)
    cluster.migrate_keys(slot, source, target, 3)  # half of it on each primary
    try:
        calls = {
            "search": lambda: store.search(ns, news[0].embedding, flt, limit=6, max_distance=2.0),
            "list": lambda: store.list_page(ns, flt, Order.NEWEST, None, count=10),
            "create": lambda: store.create(ns, [news[4]], max_distance=0.1),
            "update": lambda: store.update(
                ns, made[5].memory.id, MemoryPatch(text=news[4].text, embedding=news[4].embedding),
                max_distance=0.1,
            ),
            "delete matching": lambda: store.delete_matching(ns, flt),
        }  # fmt: skip
        for what, call in calls.items():
            with pytest.raises(RedisUnavailable):  # noqa: PT012 (says which call answered)
                await call()
                pytest.fail(f"{what} answered while the slot was moving")
    finally:
        for _ in range(100):
            if not cluster.migrate_keys(slot, source, target, 100):
                break
        cluster.finish_slot_move(slot, target)
    found = await retried(
        lambda: store.search(ns, news[0].embedding, flt, limit=10, max_distance=2.0)
    )
    assert sorted(m.memory.id for m in found) == sorted(c.memory.id for c in made)
    [again] = await retried(lambda: store.create(ns, [news[4]], max_distance=0.1))
    assert not again.created
    assert again.memory.id == made[4].memory.id
    assert cluster.owner(slot_of(keys.memory(ns, ""))) is target


async def test_forgetting_selects_and_forgets_on_each_namespaces_primary(
    cluster: LocalCluster, client: ClusterMux, store: LongTermStore
) -> None:
    forgetting = ForgettingStore(client, Retention(log_max_len=100, feed_max_len=100))
    for seed, ns in enumerate(namespaces_on(cluster, 1)):
        news = [replace(m, user_id="ann") for m in memories(5, seed=seed + 60, prefix=ns)]
        made = await store.create(ns, news, max_distance=0.1)
        now = int(time.time() * 1000) + 1
        assert await forgetting.over_budget(ns, now, 2) == [("ann", 3)]
        oldest = await forgetting.least_recalled(ns, now, "ann", count=3)
        # Never recalled: by creation, then id (one millisecond's: by id).
        by_age = sorted(keys.memory(ns, c.memory.id) for c in made)
        assert [c.key for c in oldest] == by_age[:3]
        forgot = await forgetting.forget(
            ns, ForgetRule.BUDGET, oldest, keep=2, now_ms=now, user="ann"
        )
        assert forgot == Forgot(3, 0)
        left = await forgetting.unrecalled(ns, now, now + 1, count=10)
        assert sorted(c.key for c in left) == by_age[3:]


async def test_a_primary_that_joins_gets_its_index_with_its_first_namespace(
    cluster: LocalCluster, store: LongTermStore
) -> None:
    """Runs last: it adds a primary to the module's cluster."""
    ns = next(iter(namespaces_on(cluster, 1)))
    news = memories(3, seed=80, prefix="joining")
    made = await store.create(ns, news, max_distance=0.1)
    slot = slot_of(ns)
    source = cluster.owner(slot)
    joined = await asyncio.to_thread(cluster.add_primary)
    assert not [n for n in joined.command("FT._LIST") if str(n).startswith(INDEX)]
    await asyncio.to_thread(cluster.move_slot, slot, source, joined)
    # Its first call makes the index there (and may wait for it to read
    # the memories moved in: a retryable error meanwhile).
    found = await retried(
        lambda: store.search(ns, news[1].embedding, MemoryFilter(), limit=5, max_distance=2.0)
    )
    assert sorted(m.memory.id for m in found) == sorted(c.memory.id for c in made)
    [name] = [str(n) for n in joined.command("FT._LIST") if str(n).startswith(INDEX)]
    assert cluster.owner(cluster.slot_of(name)) is joined
    [again] = await retried(lambda: store.create(ns, [news[2]], max_distance=0.1))
    assert not again.created
