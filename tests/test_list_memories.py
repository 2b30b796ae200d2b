"""ListMemories: filters as search has them, both orders over every page
size, pages cut by bytes, page tokens bound to their request, expired
memories left out, and the index of an earlier version given the fields a
listing sorts on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from memrpc.api import page_tokens
from memrpc.embedded_redis import ServerBinary
from memrpc.limits import MAX_PAGE_BYTES, MEMORY_PAGE_SIZE
from memrpc.store import keys
from memrpc.store.cluster_mux import client_for
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_index import MemoryFilter
from memrpc.store.memory_listing import Order
from memrpc.store.redis_mux import Arg
from memrpc.v1 import long_term_memory_pb2 as pb
from support import assert_invalid, assert_reason, indexed, older_index
from test_long_term_memory import DIM, EPISODIC, SEMANTIC, create, search_ids, unit_vectors

if TYPE_CHECKING:
    from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryAsyncStub

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

NEWEST = pb.MEMORY_ORDER_NEWEST_FIRST
MOST_HIT = pb.MEMORY_ORDER_MOST_HIT
# The fields a listing sorts on, which index v2 got after it was first deployed.
LISTING_FIELDS = ("id", "hit_count")


def items(count: int, seed: int, **fields: Any) -> list[pb.MemoryInput]:
    """Distinct memories with vectors far apart: none repeats another."""
    vectors = unit_vectors(count, seed)
    return [
        pb.MemoryInput(text=f"memory {seed}-{i}", embedding=vectors[i].tolist(), **fields)
        for i in range(count)
    ]


async def list_page(
    ltm: LongTermMemoryAsyncStub, ns: str, **fields: Any
) -> pb.ListMemoriesResponse:
    return await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns, **fields))


async def list_all(
    ltm: LongTermMemoryAsyncStub, ns: str, page_size: int = 0, **fields: Any
) -> list[pb.Memory]:
    """Every memory of a listing, page after page (at most 1,000 pages)."""
    listed: list[pb.Memory] = []
    token = ""
    for _ in range(1000):
        page = await list_page(ltm, ns, page_size=page_size, page_token=token, **fields)
        assert page.memories or not page.next_page_token
        listed += page.memories
        token = page.next_page_token
        if not token:
            return listed
    raise AssertionError("the listing did not end")


def newest_first(memories: Sequence[pb.Memory]) -> list[str]:
    """The ids in the order of MEMORY_ORDER_NEWEST_FIRST."""
    ordered = sorted(memories, key=lambda m: (m.create_time.ToMilliseconds(), m.id), reverse=True)
    return [m.id for m in ordered]


def most_hit_first(memories: Sequence[pb.Memory]) -> list[str]:
    """The ids in the order of MEMORY_ORDER_MOST_HIT."""
    ordered = sorted(
        memories, key=lambda m: (m.hit_count, m.create_time.ToMilliseconds(), m.id), reverse=True
    )
    return [m.id for m in ordered]


async def test_an_empty_namespace_lists_nothing(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    for order in (NEWEST, MOST_HIT):
        page = await list_page(ltm, ns, order=order)
        assert list(page.memories) == []
        assert page.next_page_token == ""


async def test_newest_first_pages_of_every_size_list_every_memory_once(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    # The items of one call share their creation millisecond: 30 ties.
    first = await create(ltm, ns, *items(30, seed=1))
    await asyncio.sleep(0.005)
    later = await create(ltm, ns, *items(6, seed=2))
    memories = [r.memory for r in first + later]
    assert len({m.create_time.ToMilliseconds() for m in memories[:30]}) == 1
    expected = newest_first(memories)
    assert expected[:6] == newest_first([r.memory for r in later])
    for page_size in range(1, len(memories) + 1):
        listed = await list_all(ltm, ns, page_size=page_size)
        assert [m.id for m in listed] == expected, page_size
    # The default order is newest first, each memory as GetMemory has it.
    listed = await list_all(ltm, ns)
    assert [m.id for m in listed] == expected
    assert {m.id: m for m in listed} == {m.id: m for m in memories}


async def test_deletes_between_pages_skip_nothing(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    made = await create(ltm, ns, *items(9, seed=20))
    expected = newest_first([r.memory for r in made])
    first = await list_page(ltm, ns, page_size=3)
    assert [m.id for m in first.memories] == expected[:3]
    # The last memory sent and the next one go: the listing goes on after them.
    for memory_id in expected[2:4]:
        await ltm.DeleteMemory(pb.DeleteMemoryRequest(namespace=ns, memory_id=memory_id))
    rest = await list_page(ltm, ns, page_size=10, page_token=first.next_page_token)
    assert [m.id for m in rest.memories] == expected[4:]


async def test_most_hit_first_then_newest_over_every_page_size(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    made = await create(ltm, ns, *items(12, seed=3))
    # Hit counts 1 to 4, three memories each: ties on hits and on creation time.
    repeats = [made[i].memory.text for i in range(12) for _ in range(i % 4)]
    again = [pb.MemoryInput(text=text) for text in repeats]
    results = await create(ltm, ns, *again)
    assert all(r.outcome == pb.CREATE_OUTCOME_DUPLICATE for r in results)
    later = await create(ltm, ns, *items(3, seed=4))
    memories = [m for m in await list_all(ltm, ns)]
    assert sorted(m.hit_count for m in memories) == sorted([1, 2, 3, 4] * 3 + [1] * 3)
    expected = most_hit_first(memories)
    assert set(expected[-6:]) >= {r.memory.id for r in later}
    for page_size in range(1, len(memories) + 1):
        listed = await list_all(ltm, ns, page_size=page_size, order=MOST_HIT)
        assert [m.id for m in listed] == expected, page_size


async def test_filters_keep_what_search_keeps(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    await create(ltm, ns, *items(3, seed=5, user_id="ann", kind=EPISODIC, topics=["ui"]))
    await create(ltm, ns, *items(3, seed=6, user_id="bob", thread_id="t1", topics=["ui", "food"]))
    await asyncio.sleep(0.005)
    middle = time.time_ns() // 1_000_000
    await asyncio.sleep(0.005)
    await create(ltm, ns, *items(3, seed=7, user_id="ann", thread_id="t1", kind=SEMANTIC))
    await create(ltm, ns, *items(2, seed=8))

    def at(ms: int) -> timestamp_pb2.Timestamp:
        stamp = timestamp_pb2.Timestamp()
        stamp.FromMilliseconds(ms)
        return stamp

    filters = [
        pb.MemoryFilter(),
        pb.MemoryFilter(user_ids=["ann"]),
        pb.MemoryFilter(user_ids=["ann", "bob"]),  # any of a field's values
        pb.MemoryFilter(user_ids=[""]),  # memories of no user
        pb.MemoryFilter(kinds=[EPISODIC]),
        pb.MemoryFilter(user_ids=["ann"], kinds=[SEMANTIC]),  # every field: the scope tag
        pb.MemoryFilter(thread_ids=["t1"]),
        pb.MemoryFilter(thread_ids=["t1"], user_ids=["bob"]),
        pb.MemoryFilter(topics=["food"]),
        pb.MemoryFilter(topics=["ui", "food"], kinds=[SEMANTIC]),
        pb.MemoryFilter(create_time_start=at(middle)),
        pb.MemoryFilter(create_time_end=at(middle), user_ids=["ann"]),
        pb.MemoryFilter(user_ids=["nobody"]),
    ]
    for flt in filters:
        listed = await list_all(ltm, ns, page_size=2, filter=flt)
        assert {m.id for m in listed} == await search_ids(ltm, ns, flt), flt
        assert len(listed) == len({m.id for m in listed})
    assert len(await list_all(ltm, ns, filter=filters[0])) == 11


async def test_namespaces_are_listed_apart(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    other = f"{ns}-other"
    mine = await create(ltm, ns, *items(3, seed=9))
    theirs = await create(ltm, other, *items(2, seed=10))
    assert {m.id for m in await list_all(ltm, ns)} == {r.memory.id for r in mine}
    assert {m.id for m in await list_all(ltm, other)} == {r.memory.id for r in theirs}
    # A token of one namespace is refused in another.
    page = await list_page(ltm, ns, page_size=1)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_page(ltm, other, page_size=1, page_token=page.next_page_token)
    assert_reason(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")


async def test_a_page_stops_before_3_mib(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    # 60 entries of 4,000 characters: 240 kB of metadata per memory.
    metadata = {f"k{i}": str(i % 10) * 4000 for i in range(60)}
    for seed in (11, 12, 13):
        await create(ltm, ns, *items(5, seed=seed, metadata=metadata))
    first = await list_page(ltm, ns, page_size=15)
    assert 0 < len(first.memories) < 15
    assert sum(m.ByteSize() for m in first.memories) <= MAX_PAGE_BYTES
    assert first.next_page_token
    listed = await list_all(ltm, ns, page_size=15)
    assert len(listed) == len({m.id for m in listed}) == 15
    assert [m.id for m in listed[: len(first.memories)]] == [m.id for m in first.memories]


async def test_a_token_is_bound_to_its_request(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    await create(ltm, ns, *items(4, seed=14, user_id="ann"))
    flt = pb.MemoryFilter(user_ids=["ann"])
    page = await list_page(ltm, ns, page_size=1, filter=flt)
    token = page.next_page_token
    # page_size may change between pages.
    rest = await list_page(ltm, ns, page_size=3, filter=flt, page_token=token)
    assert len(rest.memories) == 3
    assert rest.next_page_token == ""
    other_requests: list[dict[str, Any]] = [
        {"filter": pb.MemoryFilter(user_ids=["bob"])},
        {"filter": flt, "order": MOST_HIT},
        {},  # no filter
        {"filter": flt, "order": NEWEST},  # the default, spelt out: other parameters
    ]
    for other in other_requests:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_page(ltm, ns, page_token=token, **other)
        assert_invalid(caught.value, "page_token", "PAGE_TOKEN_INVALID")
    request = pb.ListMemoriesRequest(namespace=ns, filter=flt)
    forged = [
        "not a token",
        page_tokens.encode("ListEvents", request, [page.memories[0].id]),
        page_tokens.encode("ListMemories", request, ["not an id"]),
        page_tokens.encode("ListMemories", request, [3, page.memories[0].id]),
        page_tokens.encode("ListMemories", request, [{"id": page.memories[0].id}]),
    ]
    for bad in forged:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_page(ltm, ns, filter=flt, page_token=bad)
        assert_reason(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
    most_hit = pb.ListMemoriesRequest(namespace=ns, filter=flt, order=MOST_HIT)
    for position in ([-1, page.memories[0].id], [True, page.memories[0].id], [1.5, "x"]):
        bad = page_tokens.encode("ListMemories", most_hit, position)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_page(ltm, ns, filter=flt, order=MOST_HIT, page_token=bad)
        assert_reason(caught.value, grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")


async def test_page_size_bounds(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    for seed in (15, 16):
        await create(ltm, ns, *items(30, seed=seed))
    page = await list_page(ltm, ns)
    assert len(page.memories) == MEMORY_PAGE_SIZE.default
    page = await list_page(ltm, ns, page_size=int(MEMORY_PAGE_SIZE.high))
    assert len(page.memories) == 60
    for size in (-1, int(MEMORY_PAGE_SIZE.high) + 1):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_page(ltm, ns, page_size=size)
        assert_invalid(caught.value, "page_size")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_page(ltm, ns, order=7)
    assert_invalid(caught.value, "order")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_page(ltm, ns, filter=pb.MemoryFilter(topics=[""]))
    assert_invalid(caught.value, "filter.topics[0]")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await list_page(ltm, "")
    assert_invalid(caught.value, "namespace")


async def test_expired_memories_are_not_listed(
    ltm: LongTermMemoryAsyncStub, shared_url: str, ns: str
) -> None:
    [kept] = await create(ltm, ns, *items(1, seed=17))
    client = client_for(shared_url)
    try:
        store = LongTermStore(client, dim=DIM)
        vector = unit_vectors(1, seed=18)[0]
        [expired] = await store.create(ns, [NewMemory("gone", vector, ttl_ms=1)], max_distance=0)
        # The document stays: only its time of expiry leaves it out.
        await client.execute("PERSIST", keys.memory(ns, expired.memory.id))
        await asyncio.sleep(0.01)
        for order in (NEWEST, MOST_HIT):
            listed = await list_all(ltm, ns, order=order)
            assert [m.id for m in listed] == [kept.memory.id]
    finally:
        await client.aclose()


async def test_a_listing_reads_little_past_its_byte_budget(
    shared_url: str, memrpc_server: object, ns: str
) -> None:
    client = client_for(shared_url)
    reads: list[int] = []
    try:
        store = LongTermStore(client, dim=DIM)
        vectors = unit_vectors(40, seed=23)
        # 40 memories of about 10 kB each.
        big = {"blob": "x" * 10_000}
        await store.create(
            ns, [NewMemory(f"big {i}", vectors[i], metadata=big) for i in range(40)], max_distance=0
        )
        await indexed(client)
        execute = client.execute

        async def counted(*args: Arg, script: str | None = None) -> Any:
            if args[0] == "HMGET":
                reads.append(1)
            return await execute(*args, script=script)

        client.execute = counted  # type: ignore[method-assign]
        # A budget of 100 kB stops after the first read of 16 (160 kB)...
        cut = await store.list_page(
            ns, MemoryFilter(), Order.NEWEST, None, count=41, max_bytes=100_000
        )
        assert (len(cut.memories), cut.cut, sum(reads)) == (16, True, 16)
        # ... and one of 300 kB reads 16, then about what fits of the rest.
        reads.clear()
        more = await store.list_page(
            ns, MemoryFilter(), Order.NEWEST, None, count=41, max_bytes=300_000
        )
        assert more.cut
        assert sum(reads) == len(more.memories)
        assert 28 <= len(more.memories) <= 31
        # Without a budget to reach, every memory is read once.
        reads.clear()
        whole = await store.list_page(ns, MemoryFilter(), Order.NEWEST, None, count=41)
        assert (len(whole.memories), whole.cut, sum(reads)) == (40, False, 40)
    finally:
        await client.aclose()


# An index made by an earlier version.


async def test_an_older_index_gets_the_listing_fields(
    tmp_path: Path, server_binary: ServerBinary
) -> None:
    async with older_index(tmp_path, server_binary, DIM, LISTING_FIELDS) as client:
        store = LongTermStore(client, dim=DIM)
        vectors = unit_vectors(4, seed=19)
        news = [NewMemory(f"old {i}", vectors[i]) for i in range(4)]
        made = await store.create("ns", news, max_distance=0.2)
        await store.create("ns", [news[2], news[2], news[1]], max_distance=0.2)  # hits
        # Servers starting together on the old index: both add what it lacks.
        added = await asyncio.gather(store.ensure_index(), store.ensure_index())
        assert sorted(added, key=len)[-1] == list(LISTING_FIELDS)
        assert await store.ensure_index() == []
        await indexed(client)
        ids = [c.memory.id for c in made]
        newest = await store.list_page("ns", MemoryFilter(), Order.NEWEST, None, count=10)
        assert [m.id for m in newest.memories] == sorted(ids, reverse=True)
        listed = await store.list_page("ns", MemoryFilter(), Order.MOST_HIT, None, count=10)
        most_hit = listed.memories
        assert [m.id for m in most_hit] == [ids[2], ids[1], *sorted([ids[0], ids[3]])[::-1]]
        assert [m.hit_count for m in most_hit] == [3, 2, 1, 1]
        # Search and deduplication still work on the altered index.
        [match] = await store.search("ns", vectors[3], MemoryFilter(), limit=1, max_distance=0.1)
        assert match.memory.id == ids[3]
        [again] = await store.create("ns", [news[3]], max_distance=0.2)
        assert not again.created
