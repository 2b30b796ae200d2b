"""Client-chosen memory ids (AIP-133), create-or-replace and dedup off, end
to end through the gRPC stub on a real Redis (and on a Redis Cluster)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2

from memrpc.store import keys
from memrpc.store.consolidation import Walk
from memrpc.store.hash_slot import slot_of as key_slot
from memrpc.store.long_term import CREATE_BATCH, Memory, Source
from memrpc.store.memory_ids import is_client_id, is_memory_id
from memrpc.store.memory_index import Kind
from memrpc.store.memory_listing import Position, place, place_position, placed
from memrpc.store.ulid import new_ulid
from memrpc.v1 import long_term_memory_pb2 as pb
from support import assert_invalid, assert_reason, details_of

if TYPE_CHECKING:
    from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryAsyncStub

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

CREATED = pb.CREATE_OUTCOME_CREATED
REPLACED = pb.CREATE_OUTCOME_REPLACED
DUPLICATE = pb.CREATE_OUTCOME_DUPLICATE
OFF = pb.DEDUP_MODE_OFF
TEA = "The user drinks green tea every morning."


def item(text: str, memory_id: str = "", **fields: Any) -> pb.MemoryInput:
    return pb.MemoryInput(text=text, memory_id=memory_id, **fields)


async def create(
    ltm: LongTermMemoryAsyncStub, ns: str, *items: pb.MemoryInput, **fields: Any
) -> pb.CreateMemoriesResponse:
    return await ltm.CreateMemories(
        pb.CreateMemoriesRequest(namespace=ns, memories=items, **fields)
    )


async def failure(call: Any) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return caught.value


@pytest.mark.parametrize(
    ("memory_id", "message"),
    [
        ("a" * 64, "at most 63 characters, not 64"),
        ("1abc", "must start with a lower-case letter"),
        ("-abc", "must start with a lower-case letter"),
        ("Abc", "must start with a lower-case letter"),
        ("abC", "holds 'C' at 2"),
        ("a_b", "holds '_' at 1"),
        ("a:b", "holds ':' at 1"),
        ("a}b", "holds '}' at 1"),
        ("a b", "holds ' ' at 1"),
        ("abc-", "must not end with a hyphen"),
        ("01ARZ3NDEKTSV4RRFFQ69G5FAV", "must start with a lower-case letter"),
    ],
)
async def test_a_client_id_breaking_a_rule_is_refused_with_that_rule(
    ltm: LongTermMemoryAsyncStub, ns: str, memory_id: str, message: str
) -> None:
    err = await failure(create(ltm, ns, item("first", "fine-id"), item(TEA, memory_id)))
    assert_invalid(err, "memories[1].memory_id")
    assert message in (err.details() or "")
    listed = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns))
    assert not listed.memories  # nothing created


async def test_an_id_twice_in_one_request_is_refused(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    err = await failure(create(ltm, ns, item("one", "same"), item("two", "same")))
    assert_invalid(err, "memories[1].memory_id")
    assert "repeats memories[0].memory_id" in (err.details() or "")


async def test_update_refuses_a_memory_id_in_its_memory(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [_result] = (await create(ltm, ns, item(TEA, "tea"))).results
    err = await failure(
        ltm.UpdateMemory(
            pb.UpdateMemoryRequest(namespace=ns, memory_id="tea", memory=item("new text", "other"))
        )
    )
    assert_invalid(err, "memory.memory_id")


async def test_dedup_off_refuses_a_dedup_distance(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    err = await failure(create(ltm, ns, item(TEA), dedup_mode=OFF, dedup_max_distance=0.1))
    assert_invalid(err, "dedup_max_distance")


async def test_a_memory_lives_under_its_client_id(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [result] = (await create(ltm, ns, item(TEA, "k-0f3a"))).results
    assert result.outcome == CREATED
    assert result.memory.id == "k-0f3a"
    got = await ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id="k-0f3a"))
    assert got.memory.text == TEA
    assert got.memory.version == 1
    found = await ltm.SearchMemories(pb.SearchMemoriesRequest(namespace=ns, text="green tea"))
    assert [m.memory.id for m in found.matches] == ["k-0f3a"]
    await ltm.DeleteMemory(pb.DeleteMemoryRequest(namespace=ns, memory_id="k-0f3a"))
    err = await failure(ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id="k-0f3a")))
    assert_reason(err, grpc.StatusCode.NOT_FOUND, "MEMORY_NOT_FOUND")


async def test_a_taken_id_fails_with_its_resource_and_creates_nothing(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await create(ltm, ns, item(TEA, "tea"))
    err = await failure(
        create(ltm, ns, item("Bob plays chess.", "chess"), item("Other text.", "tea"))
    )
    metadata = assert_reason(err, grpc.StatusCode.ALREADY_EXISTS, "MEMORY_ALREADY_EXISTS")
    assert metadata == {"namespace": ns, "memoryId": "tea", "field": "memories[1].memory_id"}
    [info] = details_of(err, error_details_pb2.ResourceInfo)
    assert (info.resource_type, info.resource_name) == (
        "memrpc.v1.Memory",
        f"namespaces/{ns}/memories/tea",
    )
    listed = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns))
    assert [m.id for m in listed.memories] == ["tea"]  # not `chess`
    assert listed.memories[0].text == TEA


async def test_replace_writes_the_memory_anew_keeping_its_create_time(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [first] = (
        await create(ltm, ns, item(TEA, "tea", topics=["drinks"], metadata={"a": "1"}))
    ).results
    [again] = (
        await create(
            ltm,
            ns,
            item("The user switched to black coffee.", "tea", kind=pb.MEMORY_KIND_EPISODIC),
            replace_existing=True,
        )
    ).results
    assert again.outcome == REPLACED
    replaced = (await ltm.GetMemory(pb.GetMemoryRequest(namespace=ns, memory_id="tea"))).memory
    assert replaced == again.memory
    assert replaced.text == "The user switched to black coffee."
    assert (replaced.version, replaced.hit_count) == (2, 1)
    assert replaced.create_time == first.memory.create_time
    assert replaced.update_time.ToMilliseconds() >= first.memory.create_time.ToMilliseconds()
    assert list(replaced.topics) == []
    assert dict(replaced.metadata) == {}
    # Episodic now: the kind's default lifetime (7 days), from the replace.
    lifetime = replaced.expire_time.ToMilliseconds() - replaced.update_time.ToMilliseconds()
    assert lifetime == 7 * 24 * 3600 * 1000
    [forever] = (
        await create(ltm, ns, item(TEA, "tea", ttl=duration_pb2.Duration()), replace_existing=True)
    ).results
    assert forever.outcome == REPLACED
    assert not forever.memory.HasField("expire_time")
    assert forever.memory.version == 3
    # Searched as the new text only: the index follows the replace.
    found = await ltm.SearchMemories(pb.SearchMemoriesRequest(namespace=ns, text="black coffee"))
    assert [m.memory.text for m in found.matches] in ([], [TEA])


async def test_replace_creates_a_missing_id(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [result] = (await create(ltm, ns, item(TEA, "new-one"), replace_existing=True)).results
    assert result.outcome == CREATED
    assert result.memory.version == 1


async def test_dedup_off_stores_two_identical_texts(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    response = await create(ltm, ns, item(TEA, "a"), item(TEA, "b"), item(TEA), dedup_mode=OFF)
    assert [r.outcome for r in response.results] == [CREATED] * 3
    again = await create(ltm, ns, item(TEA), dedup_mode=OFF)
    assert again.results[0].outcome == CREATED
    listed = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns))
    assert len(listed.memories) == 4
    assert all(m.hit_count == 1 for m in listed.memories)
    # With dedup on (the default), the same text merges into one of them.
    [merged] = (await create(ltm, ns, item(TEA, "c"))).results
    assert merged.outcome == DUPLICATE
    assert merged.memory.id != "c"


async def test_update_with_dedup_off_writes_a_repeated_text(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    await create(ltm, ns, item(TEA, "a"), item("Bob plays chess.", "b"))
    request = pb.UpdateMemoryRequest(namespace=ns, memory_id="b", memory=item(TEA))
    err = await failure(ltm.UpdateMemory(request))
    assert_reason(err, grpc.StatusCode.ALREADY_EXISTS, "MEMORY_DUPLICATE")
    request.dedup_mode = OFF
    updated = await ltm.UpdateMemory(request)
    assert (updated.memory.text, updated.memory.version) == (TEA, 2)


async def test_a_retried_request_with_client_ids_replays(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    items = [item(TEA, "a"), item("Bob plays chess.", "b")]
    first = await create(ltm, ns, *items, request_id="req-1", dedup_mode=OFF)
    again = await create(ltm, ns, *items, request_id="req-1", dedup_mode=OFF)
    assert again.replayed
    assert [r.memory.id for r in again.results] == ["a", "b"]
    assert [r.outcome for r in again.results] == [r.outcome for r in first.results]
    replaced = await create(ltm, ns, items[0], request_id="req-2", replace_existing=True)
    replayed = await create(ltm, ns, items[0], request_id="req-2", replace_existing=True)
    assert (
        [r.outcome for r in replayed.results] == [REPLACED] == [r.outcome for r in replaced.results]
    )
    assert replayed.results[0].memory.version == 2  # replaced once


async def test_listing_pages_through_client_ids_and_ulids(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    texts = [f"Fact number {n} about the {w}." for n, w in enumerate("abcdefgh")]
    ids = ["zz-last", "", "aa-first", "", "m1", "m2", "", "b"]
    for start in range(0, len(texts), 3):  # a few batches: several milliseconds
        await create(
            ltm,
            ns,
            *(
                item(t, i)
                for t, i in zip(texts[start : start + 3], ids[start : start + 3], strict=False)
            ),
            dedup_mode=OFF,
        )
    for order in (pb.MEMORY_ORDER_NEWEST_FIRST, pb.MEMORY_ORDER_MOST_HIT):
        whole = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns, order=order))
        seen: list[str] = []
        token = ""
        for _ in range(len(texts) + 1):
            page = await ltm.ListMemories(
                pb.ListMemoriesRequest(namespace=ns, order=order, page_size=1, page_token=token)
            )
            seen += [m.id for m in page.memories]
            token = page.next_page_token
            if not token:
                break
        assert seen == [m.id for m in whole.memories]
        assert len(set(seen)) == len(texts)
        created = [m.create_time.ToMilliseconds() for m in whole.memories]
        if order == pb.MEMORY_ORDER_NEWEST_FIRST:
            assert created == sorted(created, reverse=True)


def test_client_ids_and_ulids_never_collide() -> None:
    assert is_memory_id("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert not is_client_id("01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert is_client_id("k" + "0" * 62)
    assert not is_client_id("k" + "0" * 63)
    assert is_client_id("a")
    assert not is_client_id("a-")
    assert not is_client_id("")


def test_a_client_ids_keys_share_the_slot_of_their_namespace() -> None:
    """Cluster-safe: one script call writes a namespace's sequence, its
    request Hash and its memories' keys, so they must share a slot; the
    `{ns}` hash tag makes them, whatever id a client chooses (its grammar
    holds no brace)."""
    ns = "tenant-1"
    slot = key_slot(keys.memory_sequence(ns))
    for memory_id in ("a", "k-" + "f" * 61, "x-y-z", "z9"):
        assert key_slot(keys.memory(ns, memory_id)) == slot
    assert key_slot(keys.memory_request(ns, "req")) == slot


def test_consolidation_walks_client_ids_by_their_create_time() -> None:
    """Consolidation's walk keeps places (creation ms, then id), so a
    client's id, which sorts after every ULID as text, is asked about in
    its time's turn; a bare ULID kept by an older walk reads as its place."""
    ulid = new_ulid(2_000)
    assert place("zz-client", 1_000) < place(ulid, 2_000) < place("aa-client", 3_000)
    assert placed(ulid) == place(ulid, 2_000)
    assert placed("") == ""
    assert place_position(place("zz-client", 1_000)) == Position("zz-client", 0, 1_000)
    assert place_position(ulid) == Position(ulid)
    walk = Walk(checked=place(ulid, 2_000))
    older = dataclasses.replace(_memory("zz-client"), create_ms=1_000)
    newer = dataclasses.replace(_memory("aa-client"), create_ms=3_000)
    assert not walk.asks_about(older)
    assert walk.asks_about(newer)
    with pytest.raises(ValueError, match="create_ms"):
        Position("zz-client")


def _memory(memory_id: str) -> Memory:
    return Memory(
        id=memory_id, namespace="n", user_id="", kind=Kind.SEMANTIC, thread_id="", topics=(),
        text="t", metadata={}, create_ms=0, update_ms=0, expire_ms=0, hit_count=1, version=1,
        source=Source.CLIENT, source_event_ids=(), start_ms=0, end_ms=0,
    )  # fmt: skip


async def test_a_taken_id_in_a_later_script_call_creates_nothing(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    """A create longer than one script call (`CREATE_BATCH` items) fails
    whole, with or without a request id; its retry completes it."""
    await create(ltm, ns, item(TEA, "tea"))
    texts = [item(f"Fact {i} of a long create.", f"f{i}") for i in range(CREATE_BATCH + 2)]
    for fields in ({}, {"request_id": "long-create"}):
        err = await failure(create(ltm, ns, *texts, item("Other.", "tea"), **fields))
        assert_reason(err, grpc.StatusCode.ALREADY_EXISTS, "MEMORY_ALREADY_EXISTS")
        listed = await ltm.ListMemories(pb.ListMemoriesRequest(namespace=ns))
        assert [m.id for m in listed.memories] == ["tea"]
    done = await create(ltm, ns, *texts, request_id="retry", dedup_mode=OFF)
    again = await create(ltm, ns, *texts, request_id="retry", dedup_mode=OFF)
    assert again.replayed
    assert [r.memory.id for r in again.results] == [r.memory.id for r in done.results]
