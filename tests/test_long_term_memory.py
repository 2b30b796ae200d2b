"""LongTermMemory end to end: the real model, a real Redis with Search and
JSON, through the gRPC stub."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np
import pytest
import redis.asyncio
from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2
from hypothesis import given
from hypothesis import strategies as st

from memrpc.api import request_ids
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.limits import DEFAULT_VECTOR_TYPE, VECTOR_TYPES
from memrpc.store import keys, memory_document
from memrpc.store.cluster_mux import client_for
from memrpc.store.long_term import (
    CREATE_BATCH,
    LongTermStore,
    MemoryPatch,
    NewMemory,
    Vector,
)
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import Kind, MemoryFilter, scope_tag
from memrpc.store.redis_mux import RedisMux
from memrpc.store.request_ids import RequestId
from memrpc.v1 import long_term_memory_pb2 as pb
from support import assert_invalid, assert_reason

if TYPE_CHECKING:
    from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryAsyncStub

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

DIM = 384
ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")
CREATED = pb.CREATE_OUTCOME_CREATED
DUPLICATE = pb.CREATE_OUTCOME_DUPLICATE
EPISODIC = pb.MEMORY_KIND_EPISODIC
SEMANTIC = pb.MEMORY_KIND_SEMANTIC
DARK_MODE = "The user prefers dark mode in the editor."
DARK_MODE_PARAPHRASE = "The user likes dark mode in their editor."
PEANUTS = "Alice is allergic to peanuts."
# Values that are query syntax somewhere in Redis Search.
HOSTILE = [
    "}",
    "{",
    "|",
    "@",
    "*",
    '"',
    "'",
    "a b",
    "-",
    ",",
    "\\",
    ")",
    "_",
    "$v",
    "ünï 日本 🙂",
    "x} | @ns:{*",
    "*}) | (@user:{*",
    "=>[KNN 100 @embedding $v AS d]",
    "-@user:{x}",
    "%fuzzy%",
]


def item(text: str, **fields: Any) -> pb.MemoryInput:
    return pb.MemoryInput(text=text, **fields)


def seconds(value: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromNanoseconds(round(value * 1e9))
    return duration


def at_ms(ms: int) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromMilliseconds(ms)
    return stamp


def unit_vectors(count: int, seed: int) -> Vector:
    """Random unit vectors: in 384 dimensions, far from each other and from text."""
    vectors = np.random.default_rng(seed).standard_normal((count, DIM))
    unit: Vector = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    return unit


async def create(
    ltm: LongTermMemoryAsyncStub, ns: str, *items: pb.MemoryInput, **fields: Any
) -> list[pb.CreateMemoryResult]:
    request = pb.CreateMemoriesRequest(namespace=ns, memories=items, **fields)
    return list((await ltm.CreateMemories(request)).results)


async def search(
    ltm: LongTermMemoryAsyncStub, ns: str, text: str = DARK_MODE, **fields: Any
) -> list[pb.MemoryMatch]:
    request = pb.SearchMemoriesRequest(namespace=ns, text=text, **fields)
    return list((await ltm.SearchMemories(request)).matches)


async def search_ids(
    ltm: LongTermMemoryAsyncStub, ns: str, flt: pb.MemoryFilter, text: str = DARK_MODE
) -> set[str]:
    """The ids of every memory `flt` keeps, whatever their distance."""
    matches = await search(ltm, ns, text, filter=flt, limit=100, max_distance=2.0)
    return {match.memory.id for match in matches}


async def get(ltm: LongTermMemoryAsyncStub, ns: str, memory_id: str) -> pb.Memory:
    request = pb.GetMemoryRequest(namespace=ns, memory_id=memory_id)
    return (await ltm.GetMemory(request)).memory


async def update(
    ltm: LongTermMemoryAsyncStub,
    ns: str,
    memory_id: str,
    paths: Sequence[str],
    expected_version: int | None = None,
    **fields: Any,
) -> pb.Memory:
    request = pb.UpdateMemoryRequest(
        namespace=ns,
        memory_id=memory_id,
        memory=pb.MemoryInput(**fields),
        update_mask=field_mask_pb2.FieldMask(paths=paths),
        expected_version=expected_version,
    )
    return (await ltm.UpdateMemory(request)).memory


async def delete(
    ltm: LongTermMemoryAsyncStub, ns: str, memory_id: str, expected_version: int | None = None
) -> None:
    request = pb.DeleteMemoryRequest(
        namespace=ns, memory_id=memory_id, expected_version=expected_version
    )
    await ltm.DeleteMemory(request)


async def expect_code(call: Any, code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() == code, caught.value.details()
    return caught.value


# Create, get, delete.


async def test_create_and_get(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [result] = await create(
        ltm,
        ns,
        item(
            DARK_MODE,
            user_id="alice",
            kind=EPISODIC,
            thread_id="thread-1",
            topics=["ui", "preferences", "ui"],
            metadata={"source": "chat"},
        ),
    )
    assert result.outcome == CREATED
    assert result.distance == 0
    memory = result.memory
    assert ULID.fullmatch(memory.id)
    assert (memory.namespace, memory.user_id, memory.thread_id) == (ns, "alice", "thread-1")
    assert (memory.kind, memory.text, memory.hit_count) == (EPISODIC, DARK_MODE, 1)
    assert list(memory.topics) == ["ui", "preferences"]
    assert dict(memory.metadata) == {"source": "chat"}
    assert memory.update_time == memory.create_time
    week_ms = 7 * 86_400_000
    assert memory.expire_time.ToMilliseconds() == memory.create_time.ToMilliseconds() + week_ms
    assert await get(ltm, ns, memory.id) == memory


async def test_kind_and_lifetime_defaults(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    results = await create(
        ltm,
        ns,
        item("The user lives in Lisbon."),
        item("The user went hiking on Sunday.", kind=EPISODIC, ttl=seconds(0)),
        item("The user is learning Portuguese.", ttl=seconds(60)),
    )
    unspecified, episodic_forever, one_minute = (r.memory for r in results)
    assert unspecified.kind == SEMANTIC
    assert not unspecified.HasField("expire_time")
    assert not episodic_forever.HasField("expire_time")
    created_ms = one_minute.create_time.ToMilliseconds()
    assert one_minute.expire_time.ToMilliseconds() == created_ms + 60_000


async def test_delete_memory(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [result] = await create(ltm, ns, item(PEANUTS))
    request = pb.DeleteMemoryRequest(namespace=ns, memory_id=result.memory.id)
    await ltm.DeleteMemory(request)
    await expect_code(ltm.DeleteMemory(request), grpc.StatusCode.NOT_FOUND)
    await expect_code(get(ltm, ns, result.memory.id), grpc.StatusCode.NOT_FOUND)
    assert await search(ltm, ns, PEANUTS) == []


async def test_not_found(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [result] = await create(ltm, ns, item(PEANUTS))
    absent = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    other_ns = f"{ns}-other"
    await expect_code(get(ltm, ns, absent), grpc.StatusCode.NOT_FOUND)
    await expect_code(get(ltm, other_ns, result.memory.id), grpc.StatusCode.NOT_FOUND)
    await expect_code(update(ltm, ns, absent, ["topics"], topics=["x"]), grpc.StatusCode.NOT_FOUND)
    await expect_code(
        update(ltm, other_ns, result.memory.id, ["text"], text="x"), grpc.StatusCode.NOT_FOUND
    )
    await expect_code(
        ltm.DeleteMemory(pb.DeleteMemoryRequest(namespace=other_ns, memory_id=result.memory.id)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert (await get(ltm, ns, result.memory.id)).text == PEANUTS


# Deduplication.


async def test_exact_duplicate_ignores_case_spacing_and_width(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [first] = await create(ltm, ns, item("The user's ﬁle is named Report.PDF"))
    variants = ["  the USER'S file is   named\treport.pdf ", "THE USER'S FILE IS NAMED REPORT.PDF"]
    for hits, text in enumerate(variants, start=2):
        # Distance 0 turns the vector check off: only the exact check can match.
        [result] = await create(ltm, ns, item(text), dedup_max_distance=0.0)
        assert result.outcome == DUPLICATE
        assert result.memory.id == first.memory.id
        assert result.distance == 0
        assert result.memory.hit_count == hits
        assert result.memory.text == first.memory.text
    assert (await get(ltm, ns, first.memory.id)).hit_count == 3


async def test_near_duplicate_paraphrase(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [first] = await create(ltm, ns, item(DARK_MODE))
    [result] = await create(ltm, ns, item(DARK_MODE_PARAPHRASE))
    assert result.outcome == DUPLICATE
    assert result.memory.id == first.memory.id
    assert 0 < result.distance <= 0.2
    assert result.memory.hit_count == 2
    assert result.memory.text == DARK_MODE
    [exact_only] = await create(ltm, ns, item(DARK_MODE_PARAPHRASE), dedup_max_distance=0.0)
    assert exact_only.outcome == CREATED


async def test_unrelated_text_is_created(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [first, second] = await create(ltm, ns, item(DARK_MODE), item(PEANUTS))
    assert (first.outcome, second.outcome) == (CREATED, CREATED)
    assert first.memory.id != second.memory.id
    assert (await get(ltm, ns, first.memory.id)).hit_count == 1


async def test_duplicates_within_one_request(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    results = await create(
        ltm,
        ns,
        item(DARK_MODE),
        item(DARK_MODE.upper()),
        item(PEANUTS),
        item(DARK_MODE_PARAPHRASE),
        item("Alice has a peanut allergy."),
    )
    outcomes = [r.outcome for r in results]
    assert outcomes == [CREATED, DUPLICATE, CREATED, DUPLICATE, DUPLICATE]
    dark, peanuts = results[0].memory.id, results[2].memory.id
    assert [r.memory.id for r in results] == [dark, dark, peanuts, dark, peanuts]
    assert [r.memory.hit_count for r in results] == [1, 2, 1, 3, 2]


async def test_a_create_larger_than_one_script_call_dedups_across_its_calls(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    # The store writes CREATE_BATCH items per script call: an item repeats
    # one that an earlier call of the same request wrote.
    count = 2 * CREATE_BATCH + 1
    vectors = unit_vectors(count, seed=7)
    texts = [f"fact number {i}" for i in range(count - 1)] + ["fact number 0"]
    results = await create(
        ltm, ns, *(item(text, embedding=list(v)) for text, v in zip(texts, vectors, strict=True))
    )
    assert [r.outcome for r in results] == [CREATED] * (count - 1) + [DUPLICATE]
    assert results[-1].memory.id == results[0].memory.id


async def test_concurrent_creates_store_one_memory(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    request = pb.CreateMemoriesRequest(namespace=ns, memories=[item(DARK_MODE, user_id="u")])
    responses = await asyncio.gather(*(ltm.CreateMemories(request) for _ in range(50)))
    results = [response.results[0] for response in responses]
    assert sum(r.outcome == CREATED for r in results) == 1
    assert len({r.memory.id for r in results}) == 1
    assert sorted(r.memory.hit_count for r in results) == list(range(1, 51))
    assert (await get(ltm, ns, results[0].memory.id)).hit_count == 50
    assert len(await search_ids(ltm, ns, pb.MemoryFilter())) == 1


async def test_dedup_is_scoped_to_namespace_user_and_kind(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [first] = await create(ltm, ns, item(DARK_MODE, user_id="alice"))
    results = await create(
        ltm,
        ns,
        item(DARK_MODE, user_id="bob"),
        item(DARK_MODE),
        item(DARK_MODE, user_id="alice", kind=EPISODIC),
        item(DARK_MODE, user_id="alice", thread_id="another thread"),
    )
    assert [r.outcome for r in results] == [CREATED, CREATED, CREATED, DUPLICATE]
    assert results[3].memory.id == first.memory.id
    [elsewhere] = await create(ltm, f"{ns}-other", item(DARK_MODE, user_id="alice"))
    assert elsewhere.outcome == CREATED


# Search.


async def test_search_by_text_nearest_first(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    texts = [
        DARK_MODE,
        PEANUTS,
        "The user's favourite programming language is Python.",
        "The design team meeting moved to Thursday.",
    ]
    results = await create(ltm, ns, *(item(text) for text in texts))
    ids = {r.memory.text: r.memory.id for r in results}
    matches = await search(ltm, ns, "Which colour theme does the user like in the editor?")
    assert matches[0].memory.id == ids[DARK_MODE]
    stored = await get(ltm, ns, ids[DARK_MODE])
    # Its access, recorded in the background, may be written by now.
    stored.ClearField("access_count")
    stored.ClearField("last_access_time")
    assert matches[0].memory == stored
    # In vector mode (the default, hybrid, also weighs words and neighbours).
    vector = pb.RECALL_MODE_VECTOR
    everything = await search(ltm, ns, "dark editor theme", max_distance=2.0, mode=vector)
    distances = [m.distance for m in everything]
    assert distances == sorted(distances)
    assert len(everything) == len(texts)
    assert len(await search(ltm, ns, "dark editor theme", max_distance=2.0, limit=2)) == 2


async def test_search_by_vector(
    ltm: LongTermMemoryAsyncStub, ns: str, embedder: BatchingEmbedder
) -> None:
    [dark, peanuts] = await create(ltm, ns, item(DARK_MODE), item(PEANUTS))
    query = (await embedder.embed(["peanut allergy"]))[0]
    matches = await ltm.SearchMemories(
        pb.SearchMemoriesRequest(namespace=ns, vector=pb.Vector(values=query.tolist()))
    )
    assert [m.memory.id for m in matches.matches] == [peanuts.memory.id]
    # A caller's vector, at any scale, stands for the memory instead of its text.
    vector = unit_vectors(1, seed=1)[0]
    [own] = await create(ltm, ns, item("opaque", embedding=(vector * 3).tolist()))
    found = await ltm.SearchMemories(
        pb.SearchMemoriesRequest(namespace=ns, vector=pb.Vector(values=vector.tolist()))
    )
    assert [m.memory.id for m in found.matches] == [own.memory.id]
    assert found.matches[0].distance < 1e-5
    assert dark.memory.id not in {m.memory.id for m in found.matches}


async def test_default_max_distance_drops_unrelated(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    await create(ltm, ns, item(DARK_MODE), item(PEANUTS))
    unrelated = "quantum chromodynamics lattice simulations"
    assert await search(ltm, ns, unrelated) == []
    assert len(await search(ltm, ns, unrelated, max_distance=2.0)) == 2
    assert await search(ltm, ns, DARK_MODE, max_distance=0.0) != []


async def test_read_your_writes(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    for n in range(5):
        text = f"Reminder {n}: water the plants in room {n * 7}."
        [result] = await create(ltm, ns, item(text, user_id=f"user {n}"))
        flt = pb.MemoryFilter(user_ids=[f"user {n}"])
        [match] = await search(ltm, ns, text, filter=flt)
        assert match.memory.id == result.memory.id


async def test_search_filters_and_or(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    results = await create(
        ltm,
        ns,
        item(PEANUTS, user_id="u1", kind=EPISODIC, thread_id="t1", topics=["food"]),
        item(
            "Bob booked a flight to Lisbon.",
            user_id="u2",
            thread_id="t1",
            topics=["food", "travel"],
        ),
        item("Carol's favourite colour is green.", user_id="u1", thread_id="t2", topics=["travel"]),
        item("The quarterly report is due on Friday.", kind=EPISODIC),
    )
    m1, m2, m3, m4 = (r.memory.id for r in results)
    cases: list[tuple[pb.MemoryFilter, set[str]]] = [
        (pb.MemoryFilter(), {m1, m2, m3, m4}),
        (pb.MemoryFilter(user_ids=["u1"]), {m1, m3}),
        (pb.MemoryFilter(user_ids=["u1", "u2"]), {m1, m2, m3}),
        (pb.MemoryFilter(user_ids=[""]), {m4}),
        (pb.MemoryFilter(kinds=[EPISODIC]), {m1, m4}),
        (pb.MemoryFilter(kinds=[EPISODIC, SEMANTIC]), {m1, m2, m3, m4}),
        (pb.MemoryFilter(user_ids=["u1"], kinds=[SEMANTIC]), {m3}),
        (pb.MemoryFilter(thread_ids=["t1"]), {m1, m2}),
        (pb.MemoryFilter(thread_ids=[""]), {m4}),
        (pb.MemoryFilter(topics=["travel"]), {m2, m3}),
        (pb.MemoryFilter(topics=["food", "travel"]), {m1, m2, m3}),
        (pb.MemoryFilter(topics=["travel"], thread_ids=["t1"]), {m2}),
        (pb.MemoryFilter(user_ids=["u1"], topics=["nothing"]), set()),
        (pb.MemoryFilter(user_ids=["U1"]), set()),
    ]
    for flt, expected in cases:
        assert await search_ids(ltm, ns, flt) == expected, flt


async def test_search_create_time_range(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [result] = await create(ltm, ns, item(DARK_MODE))
    created_ms = result.memory.create_time.ToMilliseconds()
    cases = [
        (pb.MemoryFilter(create_time_start=at_ms(created_ms)), True),
        (pb.MemoryFilter(create_time_start=at_ms(created_ms + 1)), False),
        (pb.MemoryFilter(create_time_end=at_ms(created_ms)), False),
        (pb.MemoryFilter(create_time_end=at_ms(created_ms + 1)), True),
        (
            pb.MemoryFilter(
                create_time_start=at_ms(created_ms - 1000), create_time_end=at_ms(created_ms + 1)
            ),
            True,
        ),
    ]
    for flt, found in cases:
        assert await search_ids(ltm, ns, flt) == ({result.memory.id} if found else set()), flt


async def test_hostile_values_stay_isolated(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    other_ns = f"{ns}-other"
    mine = await create(ltm, ns, *(item(DARK_MODE, user_id=h, topics=[h]) for h in HOSTILE))
    await create(ltm, ns, item(DARK_MODE, user_id="victim", topics=["victim"]))
    theirs = await create(ltm, other_ns, *(item(DARK_MODE, user_id=h, topics=[h]) for h in HOSTILE))
    assert all(r.outcome == CREATED for r in [*mine, *theirs])
    for value, own, other in zip(HOSTILE, mine, theirs, strict=True):
        assert await search_ids(ltm, ns, pb.MemoryFilter(user_ids=[value])) == {own.memory.id}
        # One user and one kind: the query reads the `scope` tag instead.
        scoped = pb.MemoryFilter(user_ids=[value], kinds=[SEMANTIC])
        assert await search_ids(ltm, ns, scoped) == {own.memory.id}
        assert await search_ids(ltm, other_ns, scoped) == {other.memory.id}
        assert await search_ids(ltm, ns, pb.MemoryFilter(topics=[value])) == {own.memory.id}
        assert await search_ids(ltm, other_ns, pb.MemoryFilter(user_ids=[value])) == {
            other.memory.id
        }
        assert await search_ids(ltm, ns, pb.MemoryFilter(user_ids=[value]), text=value) == {
            own.memory.id
        }
    everyone = await search_ids(ltm, ns, pb.MemoryFilter(user_ids=HOSTILE, topics=HOSTILE))
    assert everyone == {r.memory.id for r in mine}
    for value in HOSTILE[:5]:
        request = pb.DeleteMemoriesRequest(namespace=ns, filter=pb.MemoryFilter(user_ids=[value]))
        assert (await ltm.DeleteMemories(request)).deleted_count == 1
    remaining = await search_ids(ltm, ns, pb.MemoryFilter())
    assert len(remaining) == len(HOSTILE) - 5 + 1
    assert len(await search_ids(ltm, other_ns, pb.MemoryFilter())) == len(HOSTILE)


# Lifetime.


async def test_expired_memory_is_gone(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    short, lasting = await create(
        ltm,
        ns,
        item(DARK_MODE, kind=EPISODIC, ttl=seconds(1)),
        item(PEANUTS),
    )
    assert short.memory.expire_time.ToMilliseconds() == (
        short.memory.create_time.ToMilliseconds() + 1000
    )
    assert not lasting.memory.HasField("expire_time")
    await asyncio.sleep(1.5)
    await expect_code(get(ltm, ns, short.memory.id), grpc.StatusCode.NOT_FOUND)
    assert await search_ids(ltm, ns, pb.MemoryFilter()) == {lasting.memory.id}
    [again] = await create(ltm, ns, item(DARK_MODE, kind=EPISODIC))
    assert again.outcome == CREATED


async def test_memory_past_its_expiry_is_not_live(
    ltm: LongTermMemoryAsyncStub, ns: str, redis_client: redis.asyncio.Redis
) -> None:
    """Until Redis deletes an expired key, its document is still indexed: the
    `live_until` filter keeps it out of searches and dedup."""
    [stale] = await create(ltm, ns, item(DARK_MODE, user_id="u", kind=EPISODIC))
    key = keys.memory(ns, stale.memory.id)
    past_ms = time.time_ns() // 1_000_000 - 1000
    await redis_client.hset(key, memory_document.EXPIRE_MS, past_ms)
    assert await search_ids(ltm, ns, pb.MemoryFilter()) == set()
    assert await search_ids(ltm, ns, pb.MemoryFilter(user_ids=["u"], kinds=[EPISODIC])) == set()
    [again] = await create(ltm, ns, item(DARK_MODE, user_id="u", kind=EPISODIC))
    assert again.outcome == CREATED
    [paraphrase] = await create(ltm, ns, item(DARK_MODE_PARAPHRASE, user_id="u", kind=EPISODIC))
    assert (paraphrase.outcome, paraphrase.memory.id) == (DUPLICATE, again.memory.id)


# Update.


async def test_update_text_embeds_again(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [created] = await create(ltm, ns, item(PEANUTS, user_id="alice", topics=["food"]))
    memory_id = created.memory.id
    updated = await update(ltm, ns, memory_id, ["text"], text="Alice plays the trombone.")
    assert updated.text == "Alice plays the trombone."
    assert (updated.user_id, list(updated.topics), updated.hit_count) == ("alice", ["food"], 1)
    assert updated.create_time == created.memory.create_time
    assert updated.update_time.ToMilliseconds() >= created.memory.update_time.ToMilliseconds()
    assert await get(ltm, ns, memory_id) == updated
    [match] = await search(ltm, ns, "trombone player")
    assert match.memory.id == memory_id
    assert await search(ltm, ns, "peanut allergy") == []
    [duplicate] = await create(ltm, ns, item("alice plays the TROMBONE.", user_id="alice"))
    assert (duplicate.outcome, duplicate.memory.id) == (DUPLICATE, memory_id)


async def test_update_with_own_vector(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [created] = await create(ltm, ns, item(PEANUTS))
    vector = unit_vectors(1, seed=2)[0]
    await update(
        ltm, ns, created.memory.id, ["text", "embedding"], text="x", embedding=vector.tolist()
    )
    found = await ltm.SearchMemories(
        pb.SearchMemoriesRequest(namespace=ns, vector=pb.Vector(values=vector.tolist()))
    )
    assert [m.memory.id for m in found.matches] == [created.memory.id]


async def test_update_to_duplicate_fails_and_changes_nothing(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    dark, peanuts = await create(ltm, ns, item(DARK_MODE), item(PEANUTS, topics=["food"]))
    before = await get(ltm, ns, peanuts.memory.id)
    for text in [DARK_MODE.lower(), DARK_MODE_PARAPHRASE]:
        error = await expect_code(
            update(ltm, ns, peanuts.memory.id, ["text", "topics"], text=text, topics=["ui"]),
            grpc.StatusCode.ALREADY_EXISTS,
        )
        metadata = assert_reason(error, grpc.StatusCode.ALREADY_EXISTS, "MEMORY_DUPLICATE")
        distance = float(metadata.pop("distance"))
        assert (distance == 0) == (text == DARK_MODE.lower())
        assert 0 <= distance <= 0.2
        assert metadata == {
            "namespace": ns,
            "memoryId": peanuts.memory.id,
            "duplicateMemoryId": dark.memory.id,
        }
    assert await get(ltm, ns, peanuts.memory.id) == before
    assert (await get(ltm, ns, dark.memory.id)).hit_count == 1
    # Repeating only itself is no duplicate.
    updated = await update(ltm, ns, peanuts.memory.id, ["text"], text=PEANUTS.upper())
    assert updated.text == PEANUTS.upper()


async def test_update_topics_metadata_and_ttl(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [created] = await create(
        ltm, ns, item(DARK_MODE, kind=EPISODIC, topics=["a"], metadata={"k": "v"})
    )
    memory_id = created.memory.id
    updated = await update(
        ltm, ns, memory_id, ["topics", "metadata"], topics=["b", "c"], metadata={"n": "1"}
    )
    assert (list(updated.topics), dict(updated.metadata)) == (["b", "c"], {"n": "1"})
    assert updated.text == DARK_MODE
    assert updated.expire_time == created.memory.expire_time
    assert await search_ids(ltm, ns, pb.MemoryFilter(topics=["a"])) == set()
    assert await search_ids(ltm, ns, pb.MemoryFilter(topics=["c"])) == {memory_id}
    forever = await update(ltm, ns, memory_id, ["ttl"], ttl=seconds(0))
    assert not forever.HasField("expire_time")
    hour = await update(ltm, ns, memory_id, ["ttl"], ttl=seconds(3600))
    assert hour.expire_time.ToMilliseconds() == hour.update_time.ToMilliseconds() + 3_600_000
    default = await update(ltm, ns, memory_id, ["ttl"])
    week_ms = 7 * 86_400_000
    assert default.expire_time.ToMilliseconds() == default.update_time.ToMilliseconds() + week_ms
    cleared = await update(ltm, ns, memory_id, ["topics", "metadata"])
    assert (list(cleared.topics), dict(cleared.metadata)) == ([], {})


async def test_update_mask_empty_writes_the_populated_fields(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [created] = await create(
        ltm, ns, item(PEANUTS, kind=EPISODIC, topics=["food"], metadata={"k": "v"})
    )
    memory_id = created.memory.id
    updated = await update(ltm, ns, memory_id, [], topics=["health"])
    assert (updated.text, list(updated.topics)) == (PEANUTS, ["health"])
    assert (dict(updated.metadata), updated.expire_time) == ({"k": "v"}, created.memory.expire_time)
    updated = await update(ltm, ns, memory_id, [], text="Alice plays the trombone.", ttl=seconds(0))
    assert (updated.text, list(updated.topics)) == ("Alice plays the trombone.", ["health"])
    assert not updated.HasField("expire_time")


async def test_update_mask_star_replaces_every_field(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [created] = await create(
        ltm, ns, item(PEANUTS, kind=EPISODIC, topics=["food"], metadata={"k": "v"}, ttl=seconds(60))
    )
    replaced = await update(ltm, ns, created.memory.id, ["*"], text="Alice plays the trombone.")
    assert replaced.text == "Alice plays the trombone."
    assert (list(replaced.topics), dict(replaced.metadata)) == ([], {})
    # No ttl: the kind's default lifetime, from now.
    week_ms = 7 * 86_400_000
    assert replaced.expire_time.ToMilliseconds() == replaced.update_time.ToMilliseconds() + week_ms
    assert (replaced.kind, replaced.version) == (EPISODIC, 2)


# Versions.


async def test_versions_count_content_changes_only(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    [created] = await create(ltm, ns, item(PEANUTS, topics=["food"]))
    memory = created.memory
    assert memory.version == 1
    [hit] = await create(ltm, ns, item(PEANUTS.upper()))
    assert (hit.outcome, hit.memory.id, hit.memory.hit_count) == (DUPLICATE, memory.id, 2)
    # A merged duplicate changes neither the version nor the update time.
    assert (hit.memory.version, hit.memory.update_time) == (1, memory.update_time)
    updated = await update(ltm, ns, memory.id, ["topics"], expected_version=1, topics=["health"])
    assert (updated.version, updated.hit_count) == (2, 2)
    assert await get(ltm, ns, memory.id) == updated
    assert (await update(ltm, ns, memory.id, ["ttl"], ttl=seconds(60))).version == 3


async def test_expected_version_mismatch_changes_nothing(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS, topics=["food"]))
    memory_id = created.memory.id
    await update(ltm, ns, memory_id, ["topics"], topics=["health"])
    before = await get(ltm, ns, memory_id)
    stale = update(ltm, ns, memory_id, ["text"], expected_version=1, text="Bob likes tea.")
    error = await expect_code(stale, grpc.StatusCode.ABORTED)
    metadata = assert_reason(error, grpc.StatusCode.ABORTED, "VERSION_MISMATCH")
    assert metadata == {"expectedVersion": "1", "currentVersion": "2"}
    error = await expect_code(delete(ltm, ns, memory_id, 3), grpc.StatusCode.ABORTED)
    metadata = assert_reason(error, grpc.StatusCode.ABORTED, "VERSION_MISMATCH")
    assert metadata == {"expectedVersion": "3", "currentVersion": "2"}
    assert await get(ltm, ns, memory_id) == before
    await delete(ltm, ns, memory_id, 2)
    # Gone: with an expected version, ABORTED at version 0; without, NOT_FOUND.
    for call in [
        delete(ltm, ns, memory_id, 2),
        update(ltm, ns, memory_id, ["topics"], expected_version=2, topics=["x"]),
    ]:
        error = await expect_code(call, grpc.StatusCode.ABORTED)
        metadata = assert_reason(error, grpc.StatusCode.ABORTED, "VERSION_MISMATCH")
        assert metadata == {"expectedVersion": "2", "currentVersion": "0"}
    error = await expect_code(delete(ltm, ns, memory_id), grpc.StatusCode.NOT_FOUND)
    assert (
        assert_reason(error, grpc.StatusCode.NOT_FOUND, "MEMORY_NOT_FOUND")["memoryId"] == memory_id
    )


async def test_a_document_without_a_version_is_at_version_1(
    ltm: LongTermMemoryAsyncStub, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    """Memories written before versions existed."""
    [created] = await create(ltm, ns, item(PEANUTS))
    memory_id = created.memory.id
    key = keys.memory(ns, memory_id)
    await update(ltm, ns, memory_id, [], expected_version=1, topics=["b"])
    assert await redis_client.hdel(key, memory_document.VERSION) == 1
    assert (await get(ltm, ns, memory_id)).version == 1
    assert (await update(ltm, ns, memory_id, [], expected_version=1, topics=["a"])).version == 2
    await delete(ltm, ns, memory_id, 2)


async def test_a_clients_memory_has_source_client_and_no_episode(
    ltm: LongTermMemoryAsyncStub, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS, kind=EPISODIC))
    memory = created.memory
    assert memory.source == pb.MEMORY_SOURCE_CLIENT
    assert list(memory.source_event_ids) == []
    assert not memory.HasField("start_time")
    assert not memory.HasField("end_time")
    assert await get(ltm, ns, memory.id) == memory
    # Memories written before sources were recorded read as not recorded.
    key = keys.memory(ns, memory.id)
    # A client's memory holds only its source of these (the others absent: none).
    doc = memory_document
    fields = (doc.SOURCE, doc.SOURCE_EVENT_IDS, doc.START_MS, doc.END_MS)
    assert await redis_client.hdel(key, *fields) == 1
    old = await get(ltm, ns, memory.id)
    assert old.source == pb.MEMORY_SOURCE_UNSPECIFIED
    old.source = pb.MEMORY_SOURCE_CLIENT
    assert old == memory


async def test_concurrent_updates_at_one_version_let_one_through(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [created] = await create(ltm, ns, item(PEANUTS))
    writes = [
        update(ltm, ns, created.memory.id, ["topics"], expected_version=1, topics=[f"t{n}"])
        for n in range(8)
    ]
    outcomes = await asyncio.gather(*writes, return_exceptions=True)
    written = [o for o in outcomes if isinstance(o, pb.Memory)]
    assert len(written) == 1
    assert all(
        isinstance(o, grpc.aio.AioRpcError) and o.code() == grpc.StatusCode.ABORTED
        for o in outcomes
        if not isinstance(o, pb.Memory)
    )
    assert await get(ltm, ns, created.memory.id) == written[0]


# Request ids.


def results_of(response: pb.CreateMemoriesResponse) -> list[tuple[int, str, float]]:
    """What a replay returns again: each item's outcome, memory and distance."""
    return [(r.outcome, r.memory.id, r.distance) for r in response.results]


async def test_a_repeated_request_id_replays_the_first_create(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [existing] = await create(ltm, ns, item(DARK_MODE))
    request = pb.CreateMemoriesRequest(
        namespace=ns,
        memories=[item(PEANUTS), item(DARK_MODE_PARAPHRASE), item("Bob likes green tea.")],
        request_id="req-1",
    )
    first = await ltm.CreateMemories(request)
    assert [r.outcome for r in first.results] == [CREATED, DUPLICATE, CREATED]
    assert first.results[1].memory.id == existing.memory.id
    assert not first.replayed
    # The created memory changes meanwhile; the replay shows it as it is now.
    await update(ltm, ns, first.results[0].memory.id, ["topics"], topics=["food"])
    again = await ltm.CreateMemories(request)
    assert again.replayed
    assert results_of(again) == results_of(first)
    assert again.results[1].memory == first.results[1].memory  # no hit grew
    assert again.results[1].memory.hit_count == 2
    assert (again.results[0].memory.version, list(again.results[0].memory.topics)) == (2, ["food"])
    # A memory deleted since comes back with its id alone.
    await delete(ltm, ns, first.results[2].memory.id)
    gone = (await ltm.CreateMemories(request)).results[2]
    assert gone.memory == pb.Memory(id=first.results[2].memory.id)
    assert gone.outcome == CREATED
    # The id is the namespace's: another namespace creates.
    request.namespace = f"{ns}-other"
    other = await ltm.CreateMemories(request)
    assert not other.replayed
    assert [r.outcome for r in other.results] == [CREATED, CREATED, CREATED]


async def test_a_request_id_reused_for_other_memories_creates_nothing(
    ltm: LongTermMemoryAsyncStub, ns: str
) -> None:
    [peanuts] = await create(ltm, ns, item(PEANUTS), request_id="req-2")
    others = [[item(DARK_MODE)], [item(PEANUTS), item(DARK_MODE)], [item(PEANUTS, topics=["x"])]]
    for memories in others:
        reused = pb.CreateMemoriesRequest(namespace=ns, memories=memories, request_id="req-2")
        error = await expect_code(ltm.CreateMemories(reused), grpc.StatusCode.INVALID_ARGUMENT)
        assert_invalid(error, "request_id", "REQUEST_ID_REUSED")
        metadata = assert_reason(error, grpc.StatusCode.INVALID_ARGUMENT, "REQUEST_ID_REUSED")
        assert metadata == {"field": "request_id", "requestId": "req-2"}
    assert await search_ids(ltm, ns, pb.MemoryFilter()) == {peanuts.memory.id}
    assert (await get(ltm, ns, peanuts.memory.id)).hit_count == 1


async def test_a_retry_completes_a_create_that_failed_part_of_the_way(
    ltm: LongTermMemoryAsyncStub, shared_url: str, ns: str
) -> None:
    """A create whose first script call ran and whose next ones did not (the
    connection dropped): its retry replays the items done and does the rest,
    each once."""
    count = CREATE_BATCH + 2
    vectors = unit_vectors(count, seed=6)
    inputs = [item(f"note {n}", embedding=vectors[n].tolist()) for n in range(count)]
    request = pb.CreateMemoriesRequest(namespace=ns, memories=inputs, request_id="req-3")
    done = RequestId("req-3", request_ids.fingerprint(request.memories))
    client = client_for(shared_url)
    try:
        store = LongTermStore(client, dim=DIM)
        first_batch = [NewMemory(f"note {n}", vectors[n]) for n in range(CREATE_BATCH)]
        partial = await store.create(ns, first_batch, max_distance=0.2, request=done)
    finally:
        await client.aclose()
    retry = await ltm.CreateMemories(request)
    assert not retry.replayed
    assert all(r.outcome == CREATED for r in retry.results)
    assert [r.memory.id for r in retry.results[:CREATE_BATCH]] == [c.memory_id for c in partial]
    assert len(await search_ids(ltm, ns, pb.MemoryFilter())) == count
    again = await ltm.CreateMemories(request)
    assert again.replayed
    assert results_of(again) == results_of(retry)


async def test_a_retry_after_an_ambiguous_failure_creates_each_memory_once(
    ltm: LongTermMemoryAsyncStub, redis_client: redis.asyncio.Redis, ns: str
) -> None:
    count = CREATE_BATCH + 2
    vectors = unit_vectors(count, seed=8)
    inputs = [item(f"note {n}", embedding=vectors[n].tolist()) for n in range(count)]
    request = pb.CreateMemoriesRequest(namespace=ns, memories=inputs, request_id="ambiguous")
    # Writes wait in Redis, so the client gives up on a create whose first
    # script call the server has already sent (it runs once the pause ends;
    # the next ones may or may not be sent).
    await redis_client.execute_command("CLIENT", "PAUSE", 300, "WRITE")
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await ltm.CreateMemories(request, timeout=0.1)
    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    retried = await ltm.CreateMemories(request)
    assert all(r.outcome == CREATED for r in retried.results)
    assert await search_ids(ltm, ns, pb.MemoryFilter()) == {r.memory.id for r in retried.results}
    assert len({r.memory.id for r in retried.results}) == count
    again = await ltm.CreateMemories(request)
    assert again.replayed
    assert results_of(again) == results_of(retried)


async def test_concurrent_retries_do_each_item_once(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    count = 2 * CREATE_BATCH + 1
    vectors = unit_vectors(count, seed=7)
    inputs = [item(f"note {n}", embedding=vectors[n].tolist()) for n in range(count)]
    request = pb.CreateMemoriesRequest(namespace=ns, memories=inputs, request_id="req-4")
    responses = await asyncio.gather(*(ltm.CreateMemories(request) for _ in range(4)))
    assert all(results_of(r) == results_of(responses[0]) for r in responses)
    assert all(r.outcome == CREATED for r in responses[0].results)
    assert len(await search_ids(ltm, ns, pb.MemoryFilter())) == count


# Delete by filter.


async def test_forget_a_user(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    vectors = unit_vectors(300, seed=3)
    for start in range(0, 300, 100):
        batch = [
            item(f"note {n}", user_id="leaving", embedding=vectors[n].tolist())
            for n in range(start, start + 100)
        ]
        assert all(r.outcome == CREATED for r in await create(ltm, ns, *batch))
    [staying] = await create(ltm, ns, item(DARK_MODE, user_id="staying"))
    [other_ns] = await create(ltm, f"{ns}-other", item(DARK_MODE, user_id="leaving"))
    request = pb.DeleteMemoriesRequest(namespace=ns, filter=pb.MemoryFilter(user_ids=["leaving"]))
    assert (await ltm.DeleteMemories(request)).deleted_count == 300
    assert (await ltm.DeleteMemories(request)).deleted_count == 0
    assert await search_ids(ltm, ns, pb.MemoryFilter()) == {staying.memory.id}
    assert (await get(ltm, f"{ns}-other", other_ns.memory.id)).user_id == "leaving"


async def test_delete_by_kind_and_topic(ltm: LongTermMemoryAsyncStub, ns: str) -> None:
    results = await create(
        ltm,
        ns,
        item(DARK_MODE, kind=EPISODIC, topics=["ui"]),
        item(PEANUTS, topics=["food"]),
        item("Bob booked a flight to Lisbon.", kind=EPISODIC, topics=["travel"]),
    )
    flt = pb.MemoryFilter(kinds=[EPISODIC], topics=["ui", "food"])
    deleted = await ltm.DeleteMemories(pb.DeleteMemoriesRequest(namespace=ns, filter=flt))
    assert deleted.deleted_count == 1
    assert await search_ids(ltm, ns, pb.MemoryFilter()) == {r.memory.id for r in results[1:]}


# Store level.


async def test_store_round_trip(shared_url: str, embedder: BatchingEmbedder, ns: str) -> None:
    client = client_for(shared_url)
    try:
        store = LongTermStore(client, dim=embedder.dim)
        await store.ensure_index()
        vectors = await embedder.embed([DARK_MODE, PEANUTS])
        items = [NewMemory(text=DARK_MODE, embedding=vectors[0], topics=("ui",))]
        items.append(NewMemory(text=PEANUTS, embedding=vectors[1]))
        created = await store.create(ns, items, max_distance=0.2)
        [match] = await store.search(ns, vectors[0], MemoryFilter(), limit=10, max_distance=0.55)
        assert match.memory == created[0].memory
        assert match.memory.topics == ("ui",)
        assert await store.delete_matching(ns, MemoryFilter(topics=("ui",))) == 1
    finally:
        await client.aclose()


def test_the_vector_types_are_the_limits() -> None:
    assert tuple(VectorType) == VECTOR_TYPES
    assert VectorType(DEFAULT_VECTOR_TYPE) in VectorType


@pytest.mark.parametrize("vector_type", list(VectorType))
async def test_memories_hold_their_vector_as_the_vector_type(
    own_redis: EmbeddedRedis, ns: str, vector_type: VectorType
) -> None:
    """FLOAT32 exactly; FLOAT16 as numpy rounds it (each on a Redis of its
    own: an index holds one type)."""
    client = RedisMux(own_redis.url)
    redis_client = redis.asyncio.from_url(own_redis.url)
    try:
        store = LongTermStore(client, dim=DIM, vector_type=vector_type)
        await store.ensure_index()
        vectors = unit_vectors(2, seed=4)
        [created] = await store.create(ns, [NewMemory("a", vectors[0])], max_distance=0.2)
        key = keys.memory(ns, created.memory.id)
        stored = await redis_client.hget(key, memory_document.VECTOR)
        assert stored == np.asarray(vectors[0], np.float32).astype(vector_type.dtype).tobytes()
        patch = MemoryPatch(text="b", embedding=vectors[1])
        await store.update(ns, created.memory.id, patch, max_distance=0.2)
        stored = await redis_client.hget(key, memory_document.VECTOR)
        assert stored == np.asarray(vectors[1], np.float32).astype(vector_type.dtype).tobytes()
    finally:
        await redis_client.aclose()
        await client.aclose()


kinds = st.sampled_from(list(Kind))


@given(st.tuples(st.text(), st.text(), kinds), st.tuples(st.text(), st.text(), kinds))
def test_scope_tags_of_different_scopes_differ(
    first: tuple[str, str, Kind], second: tuple[str, str, Kind]
) -> None:
    assert (scope_tag(*first) == scope_tag(*second)) == (first == second)


# Invalid arguments.

TOO_LONG = "x" * 8193
NAN_VECTOR = [float("nan")] + [0.1] * (DIM - 1)


def create_request(**item_fields: Any) -> pb.CreateMemoriesRequest:
    return pb.CreateMemoriesRequest(namespace="ns", memories=[item("text", **item_fields)])


def update_request(
    paths: Sequence[str], expected_version: int | None = None, **fields: Any
) -> pb.UpdateMemoryRequest:
    return pb.UpdateMemoryRequest(
        namespace="ns",
        memory_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
        memory=pb.MemoryInput(**fields),
        update_mask=field_mask_pb2.FieldMask(paths=paths),
        expected_version=expected_version,
    )


def search_request(**fields: Any) -> pb.SearchMemoriesRequest:
    return pb.SearchMemoriesRequest(namespace="ns", **({"text": "query"} | fields))


INVALID: list[tuple[str, Any, str]] = [
    ("CreateMemories", pb.CreateMemoriesRequest(memories=[item("x")]), "namespace"),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="a b", memories=[item("x")]),
        "namespace",
    ),
    ("CreateMemories", pb.CreateMemoriesRequest(namespace="ns"), "memories"),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("x")] * 101),
        "memories",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("")]),
        "memories[0].text",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("x"), item(" \n")]),
        "memories[1].text",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item(TOO_LONG)]),
        "memories[0].text",
    ),
    ("CreateMemories", create_request(embedding=[0.1] * 10), "memories[0].embedding"),
    ("CreateMemories", create_request(embedding=NAN_VECTOR), "memories[0].embedding"),
    ("CreateMemories", create_request(embedding=[float("inf")] * DIM), "memories[0].embedding"),
    ("CreateMemories", create_request(embedding=[0.0] * DIM), "memories[0].embedding"),
    ("CreateMemories", create_request(user_id=" alice"), "memories[0].user_id"),
    ("CreateMemories", create_request(user_id="a" * 129), "memories[0].user_id"),
    ("CreateMemories", create_request(thread_id="t\x00"), "memories[0].thread_id"),
    ("CreateMemories", create_request(kind=pb.MemoryKind.ValueType(7)), "memories[0].kind"),
    ("CreateMemories", create_request(topics=[str(n) for n in range(33)]), "memories[0].topics"),
    ("CreateMemories", create_request(topics=["ok", ""]), "memories[0].topics[1]"),
    ("CreateMemories", create_request(topics=["t" * 65]), "memories[0].topics[0]"),
    ("CreateMemories", create_request(metadata={"": "v"}), "memories[0].metadata[''] key"),
    ("CreateMemories", create_request(ttl=seconds(0.5)), "memories[0].ttl"),
    ("CreateMemories", create_request(ttl=seconds(11 * 366 * 86400)), "memories[0].ttl"),
    ("CreateMemories", create_request(ttl=seconds(-5)), "memories[0].ttl"),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("x")], dedup_max_distance=1.5),
        "dedup_max_distance",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("x")], dedup_max_distance=-0.1),
        "dedup_max_distance",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(
            namespace="ns", memories=[item("x")], dedup_max_distance=float("nan")
        ),
        "dedup_max_distance",
    ),
    ("SearchMemories", pb.SearchMemoriesRequest(namespace="ns"), "query"),
    ("SearchMemories", pb.SearchMemoriesRequest(text="x"), "namespace"),
    ("SearchMemories", search_request(text=""), "text"),
    ("SearchMemories", search_request(text=TOO_LONG), "text"),
    ("SearchMemories", search_request(vector=pb.Vector(values=[0.1] * (DIM + 1))), "vector.values"),
    ("SearchMemories", search_request(vector=pb.Vector(values=NAN_VECTOR)), "vector.values"),
    ("SearchMemories", search_request(vector=pb.Vector()), "vector.values"),
    ("SearchMemories", search_request(limit=101), "limit"),
    ("SearchMemories", search_request(limit=-1), "limit"),
    ("SearchMemories", search_request(max_distance=2.5), "max_distance"),
    ("SearchMemories", search_request(max_distance=-1), "max_distance"),
    (
        "SearchMemories",
        search_request(filter=pb.MemoryFilter(user_ids=["ok", "a\tb"])),
        "filter.user_ids[1]",
    ),
    (
        "SearchMemories",
        search_request(filter=pb.MemoryFilter(user_ids=["u"] * 101)),
        "filter.user_ids",
    ),
    (
        "SearchMemories",
        search_request(filter=pb.MemoryFilter(thread_ids=["t "])),
        "filter.thread_ids[0]",
    ),
    ("SearchMemories", search_request(filter=pb.MemoryFilter(topics=[""])), "filter.topics[0]"),
    (
        "SearchMemories",
        search_request(filter=pb.MemoryFilter(kinds=[EPISODIC, pb.MemoryKind.ValueType(9)])),
        "filter.kinds[1]",
    ),
    (
        "SearchMemories",
        search_request(
            filter=pb.MemoryFilter(create_time_start=timestamp_pb2.Timestamp(seconds=10**12))
        ),
        "filter.create_time_start",
    ),
    (
        "SearchMemories",
        search_request(filter=pb.MemoryFilter(create_time_end=timestamp_pb2.Timestamp(nanos=-1))),
        "filter.create_time_end",
    ),
    ("GetMemory", pb.GetMemoryRequest(namespace="ns"), "memory_id"),
    ("GetMemory", pb.GetMemoryRequest(namespace="ns", memory_id="Not a memory id"), "memory_id"),
    (
        "GetMemory",
        pb.GetMemoryRequest(namespace="ns", memory_id="01arz3ndektsv4rrffq69g5fav"),
        "memory_id",
    ),
    (
        "GetMemory",
        pb.GetMemoryRequest(namespace="-ns", memory_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        "namespace",
    ),
    (
        "DeleteMemory",
        pb.DeleteMemoryRequest(namespace="ns", memory_id="01ARZ3NDEKTSV4RRFFQ69G5FA"),
        "memory_id",
    ),
    ("DeleteMemories", pb.DeleteMemoriesRequest(namespace="ns"), "filter"),
    (
        "DeleteMemories",
        pb.DeleteMemoriesRequest(namespace="ns", filter=pb.MemoryFilter()),
        "filter",
    ),
    (
        "DeleteMemories",
        pb.DeleteMemoriesRequest(namespace="ns", filter=pb.MemoryFilter(topics=["x" * 65])),
        "filter.topics[0]",
    ),
    ("UpdateMemory", update_request([]), "memory"),
    ("UpdateMemory", update_request([], text="x", user_id="bob"), "update_mask"),
    ("UpdateMemory", update_request([], thread_id="t"), "update_mask"),
    ("UpdateMemory", update_request([], embedding=[0.1] * DIM), "update_mask"),
    ("UpdateMemory", update_request(["*", "text"], text="x"), "update_mask"),
    ("UpdateMemory", update_request(["*"]), "memory.text"),
    ("UpdateMemory", update_request(["text"], text="x", expected_version=0), "expected_version"),
    (
        "DeleteMemory",
        pb.DeleteMemoryRequest(
            namespace="ns", memory_id="01ARZ3NDEKTSV4RRFFQ69G5FAV", expected_version=-1
        ),
        "expected_version",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("x")], request_id="a:b"),
        "request_id",
    ),
    (
        "CreateMemories",
        pb.CreateMemoriesRequest(namespace="ns", memories=[item("x")], request_id="r" * 65),
        "request_id",
    ),
    ("UpdateMemory", update_request(["user_id"], user_id="bob"), "update_mask"),
    ("UpdateMemory", update_request(["kind"], kind=EPISODIC), "update_mask"),
    ("UpdateMemory", update_request(["thread_id"]), "update_mask"),
    ("UpdateMemory", update_request(["text", "bogus"], text="x"), "update_mask"),
    ("UpdateMemory", update_request(["embedding"], embedding=[0.1] * DIM), "update_mask"),
    ("UpdateMemory", update_request(["text"]), "memory.text"),
    (
        "UpdateMemory",
        update_request(["text", "embedding"], text="x", embedding=[1.0]),
        "memory.embedding",
    ),
    ("UpdateMemory", update_request(["topics"], topics=["a\nb"]), "memory.topics[0]"),
    ("UpdateMemory", update_request(["ttl"], ttl=seconds(0.2)), "memory.ttl"),
    (
        "UpdateMemory",
        update_request(["metadata"], metadata={"k": "v" * 4097}),
        "memory.metadata['k']",
    ),
    (
        "UpdateMemory",
        pb.UpdateMemoryRequest(
            namespace="ns",
            memory_id="01ARZ3NDEKTSV4RRFFQ69G5FAV",
            update_mask=field_mask_pb2.FieldMask(paths=["text"]),
            memory=pb.MemoryInput(text="x"),
            dedup_max_distance=2,
        ),
        "dedup_max_distance",
    ),
    (
        "UpdateMemory",
        pb.UpdateMemoryRequest(
            namespace="ns", memory_id="X", update_mask=field_mask_pb2.FieldMask(paths=["text"])
        ),
        "memory_id",
    ),
]


@pytest.mark.parametrize(("method", "request_", "field"), INVALID)
async def test_invalid_argument(
    ltm: LongTermMemoryAsyncStub, method: str, request_: Any, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(ltm, method)(request_)
    assert_invalid(caught.value, field)
