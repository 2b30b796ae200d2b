"""The long-term memory scripts on storage schema 4 during a migration: on a
Redis of their own with both indexes (the Hashes' `INDEX`, of each vector
type, and the schema-2 `LEGACY_INDEX` of JSON documents), a converted memory
matches every filter it matched before, the dedup scripts find a duplicate
in either index (the nearer), convert a JSON one to a Hash before counting
its hit, and every script that touches a memory of schema 2 converts it
first, then does what it did before (versions, pins, expiry, merges,
supersessions, forgetting, accesses and their events)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from memrpc.embedded_redis import EmbeddedRedis, ServerBinary
from memrpc.store import keys, scripts
from memrpc.store.memory_document import READ_FIELDS, VectorType
from memrpc.store.memory_index import (
    INDEX,
    LEGACY_INDEX,
    ORIGINAL_FIELD,
    Flag,
    Kind,
    MemoryFilter,
    create_command,
    dedup_queries,
    filter_query,
    index_fields,
    knn,
)
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import (
    DedupInsert,
    DedupUpdate,
    DeleteMemories,
    DeleteMemory,
    MemoryAccess,
    MemoryForget,
    MemoryForm,
    MemoryMerge,
    MemorySupersede,
    MemoryUpgrade,
    VectorWrite,
    insert_item,
)
from schema2_documents import document, legacy_index_command, write

pytestmark = pytest.mark.genuine_redis

Vector = npt.NDArray[np.float32]
DIM = 384
NOW = 1_700_000_000_000
# Ten years after `NOW`: an expiry still ahead.
LATER = NOW + 3650 * 86_400_000
MAX_DISTANCE = 0.2
CHANGES = "memrpc.memories"


@dataclass(frozen=True)
class Store:
    """A Redis with both indexes, the Hashes' of `vector_type`."""

    mux: RedisMux
    vector_type: VectorType


@pytest.fixture(scope="module", params=list(VectorType), ids=str)
async def store(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server_binary: ServerBinary,
) -> AsyncIterator[Store]:
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"), binary=server_binary)
    server.start()
    mux = RedisMux(server.url)
    await mux.execute(*create_command(DIM, request.param))
    await mux.execute(*legacy_index_command(DIM))
    yield Store(mux, request.param)
    await mux.aclose()
    server.stop()


def ulid(i: int) -> str:
    return f"01J{i:023d}"


def unit(seed: int) -> Vector:
    vector = np.random.default_rng(seed).standard_normal(DIM)
    return (vector / np.linalg.norm(vector)).astype(np.float32)


def near(vector: Vector, distance: float, seed: int) -> Vector:
    """A unit vector at about `distance` (cosine) from `vector`."""
    other = unit(seed)
    other -= float(other @ vector) * vector
    other /= np.linalg.norm(other)
    angle = np.arccos(1 - distance)
    return (np.cos(angle) * vector + np.sin(angle) * other).astype(np.float32)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


async def legacy(store: Store, ns: str, i: int, text: str, vector: Vector, **fields: Any) -> str:
    """A memory as schema 2 stored it, indexed by the legacy index."""
    key = keys.memory(ns, ulid(i))
    await write(store.mux, key, document(ns, ulid(i), vector, text=text, now_ms=NOW, **fields))
    return key


def new_fields(ns: str, i: int, text: str, *, pinned: bool = False, **more: str) -> str:
    """The `document` of an insert item: the Hash fields of a new memory."""
    flags = (Flag.PINNED,) if pinned else ()
    found = index_fields(
        ns, user_id="", thread_id="", kind=Kind.SEMANTIC, topics=(), text=text, metadata={},
        flags=flags,
    )  # fmt: skip
    found |= {"id": ulid(i), "t": text, "c": str(NOW + i), "h": "1", "src": "client"}
    return json.dumps(found | ({"p": "1"} if pinned else {}) | more)


def item(
    store: Store, ns: str, i: int, text: str, vector: Vector, *, nearest: bool = True, **more: Any
) -> Sequence[Any]:
    """An insert item (without its vector check unless `nearest`)."""
    queries = dedup_queries(
        ns, now_ms(), "", Kind.SEMANTIC, text, nearest=ORIGINAL_FIELD if nearest else None
    )
    expire_ms = int(more.pop("e", 0))
    if expire_ms:
        more["e"] = str(expire_ms)
    return insert_item(
        queries=queries, vectors=VectorWrite(store.vector_type.blob(vector), "v"),
        expire_ms=expire_ms,
        document=new_fields(ns, i, text, **more),
    )  # fmt: skip


async def insert(
    store: Store,
    ns: str,
    items: Sequence[Sequence[Any]],
    *,
    legacy_index: str = LEGACY_INDEX,
    fingerprint: str = "",
    first: int = 0,
) -> Any:
    script = scripts.load(store.mux, DedupInsert)
    call = DedupInsert(
        request=keys.memory_request(ns, "r"),
        sequence=keys.memory_sequence(ns),
        documents=[keys.memory(ns, json.loads(it[-1])["id"]) for it in items],
        index=INDEX,
        legacy_index=legacy_index,
        vector_type=store.vector_type,
        max_distance=MAX_DISTANCE,
        prefix=keys.memory(ns, ""),
        fingerprint=fingerprint,
        remember_ms=60_000 if fingerprint else 0,
        first=first,
        existing="fail",
        items=items,
    )
    return await script(call)


def read(memory: Sequence[bytes | None]) -> dict[str, bytes]:
    """A script's memory list by field, without the absent ones."""
    return {name: value for name, value in zip(READ_FIELDS, memory, strict=True) if value}


async def hash_of(store: Store, key: str) -> dict[str, bytes]:
    flat = await store.mux.execute("HGETALL", key)
    return {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}


async def legacy_count(store: Store, ns: str) -> int:
    found = await store.mux.execute(
        "FT.SEARCH", LEGACY_INDEX, f"@ns:{{{keys.tag_value(ns)}}}", "NOCONTENT", "LIMIT", 0, 0
    )
    return int(found[0])


def changes_thread(ns: str, event_type: str) -> dict[str, Any]:
    """The arguments of a script that appends an event to the namespace's
    memory-changes thread."""
    return {
        "stream": keys.events(ns, CHANGES), "feed": keys.feed(ns), "thread": CHANGES,
        "event_type": event_type, "log_max_len": 100, "feed_max_len": 100,
    }  # fmt: skip


async def events(store: Store, ns: str) -> list[tuple[str, dict[str, Any]]]:
    entries = await store.mux.execute("XRANGE", keys.events(ns, CHANGES), "-", "+")
    found = []
    for _, flat in entries:
        fields = {flat[i].decode(): flat[i + 1] for i in range(0, len(flat), 2)}
        found.append((fields["type"].decode(), json.loads(fields["json"])))
    return found


# -- Search ---------------------------------------------------------------------


async def test_a_converted_memory_matches_the_filters_it_matched_before(
    store: Store, ns: str
) -> None:
    vector = unit(60)
    key = await legacy(
        store, ns, 1, "Jörg drinks tea at noon", vector, user_id="Jörg 🙂", thread_id="t/1",
        kind=Kind.EPISODIC, topics=("drinks", "Café"), metadata={"room": "kitchen"},
        pinned=True, event_ms=NOW - 5, expire_ms=LATER,
    )  # fmt: skip
    filters = [
        MemoryFilter(user_ids=("Jörg 🙂",), kinds=(Kind.EPISODIC,)),
        MemoryFilter(thread_ids=("t/1",), topics=("Café",)),
        MemoryFilter(metadata=(("room", ("kitchen", "hall")),), create_start_ms=NOW),
        MemoryFilter(event_start_ms=NOW - 5, event_end_ms=NOW - 4),
    ]
    queries = [f"{filter_query(ns, now_ms(), flt)} @body:noon" for flt in filters]
    queries += [f"{filter_query(ns, now_ms(), MemoryFilter())} @flags:{{{Flag.PINNED}}}"]
    script = scripts.load(store.mux, MemoryUpgrade)
    await script(MemoryUpgrade(documents=[key], vector_type=store.vector_type, fields=[]))
    for query in queries:
        found = await store.mux.execute("FT.SEARCH", INDEX, query, "NOCONTENT", "DIALECT", 2)
        assert found == [1, key.encode()], query
    query = knn(filter_query(ns, now_ms(), MemoryFilter()), 1, ORIGINAL_FIELD)
    nearest = await store.mux.execute(
        "FT.SEARCH", INDEX, query, "PARAMS", 2, "v", store.vector_type.blob(vector),
        "RETURN", 1, "d", "DIALECT", 2,
    )  # fmt: skip
    assert nearest[1] == key.encode()
    assert float(nearest[2][1]) == pytest.approx(0, abs=1e-3)


# -- Dedup ----------------------------------------------------------------------


async def test_a_same_text_in_the_legacy_index_is_converted_and_counted(
    store: Store, ns: str
) -> None:
    old = await legacy(store, ns, 1, "Ada likes tea", unit(1), seq=1)
    [reply] = await insert(store, ns, [item(store, ns, 2, "ada  likes TEA", unit(2))])
    assert reply[:2] == [b"duplicate", b"0"]
    assert read(reply[2])["id"] == ulid(1).encode()
    assert read(reply[2])["h"] == b"2"
    assert await store.mux.execute("TYPE", old) == b"hash"
    assert await legacy_count(store, ns) == 0
    assert not await store.mux.execute("EXISTS", keys.memory(ns, ulid(2)))
    # The Hash is in the index now: the next repeat finds it there.
    [again] = await insert(store, ns, [item(store, ns, 3, "Ada likes tea", unit(3))])
    assert read(again[2])["h"] == b"3"


async def test_a_near_vector_in_the_legacy_index_is_converted_and_counted(
    store: Store, ns: str
) -> None:
    """Searched with the query vector as FLOAT32 whatever the index's type."""
    vector = unit(4)
    old = await legacy(store, ns, 1, "the deploy runs at noon", vector)
    repeat = near(vector, 0.05, 5)
    [reply] = await insert(store, ns, [item(store, ns, 2, "deploys go out at 12", repeat)])
    assert reply[0] == b"duplicate"
    assert float(reply[1]) == pytest.approx(0.05, abs=2e-3)
    assert read(reply[2])["h"] == b"2"
    assert (await hash_of(store, old))["v"] == store.vector_type.blob(vector)


@pytest.mark.parametrize("nearer", ["legacy", "hash"])
async def test_the_nearer_duplicate_of_the_two_indexes_counts(
    store: Store, ns: str, nearer: str
) -> None:
    vector = unit(6)
    legacy_at, hash_at = (0.04, 0.12) if nearer == "legacy" else (0.12, 0.04)
    await legacy(store, ns, 1, "one", near(vector, legacy_at, 7))
    # Written beside the legacy one, near it: without the vector check.
    nearby = item(store, ns, 2, "two", near(vector, hash_at, 8), nearest=False)
    [written] = await insert(store, ns, [nearby])
    assert written == [b"written"]
    [reply] = await insert(store, ns, [item(store, ns, 3, "three", vector)])
    assert read(reply[2])["id"] == ulid(1 if nearer == "legacy" else 2).encode()
    assert float(reply[1]) == pytest.approx(min(legacy_at, hash_at), abs=2e-3)


async def test_a_written_memory_is_its_document_numbered_with_its_vector(
    store: Store, ns: str
) -> None:
    await store.mux.execute("SET", keys.memory_sequence(ns), 6)
    vector = unit(9)
    it = item(store, ns, 1, "new", vector, e=LATER)
    assert await insert(store, ns, [it]) == [[b"written"]]
    key = keys.memory(ns, ulid(1))
    stored = await hash_of(store, key)
    expected = {name: value.encode() for name, value in json.loads(it[-1]).items()}
    assert stored == expected | {"q": b"7", "v": store.vector_type.blob(vector)}
    assert await store.mux.execute("PEXPIRETIME", key) == LATER


async def test_a_pinned_repeat_pins_a_legacy_memory(store: Store, ns: str) -> None:
    old = await legacy(store, ns, 1, "keep this", unit(10))
    [reply] = await insert(store, ns, [item(store, ns, 2, "keep this", unit(11), pinned=True)])
    memory = read(reply[2])
    assert (memory["p"], memory["vr"], memory["um"], memory["h"]) == (
        b"1", b"2", str(NOW + 2).encode(), b"2"
    )  # fmt: skip
    assert (await hash_of(store, old))["f"] == b"pinned"


async def test_a_replay_returns_the_outcome_with_the_memory_as_it_is_now(
    store: Store, ns: str
) -> None:
    await legacy(store, ns, 1, "said once", unit(12))
    items = [item(store, ns, 2, "said once", unit(13)), item(store, ns, 3, "fresh", unit(14))]
    first = await insert(store, ns, items, fingerprint="fp")
    assert [reply[0] for reply in first] == [b"duplicate", b"written"]
    await store.mux.execute("DEL", keys.memory(ns, ulid(3)))
    again = await insert(store, ns, items, fingerprint="fp")
    assert again[0][:2] == [b"duplicate", b"0"]
    assert read(again[0][2])["h"] == b"2"  # counted once
    assert again[0][3] == ulid(1).encode()
    assert again[1] == [b"written", b"0", [], ulid(3).encode()]


async def test_a_formation_counts_a_repeat_of_a_legacy_memory(store: Store, ns: str) -> None:
    session = keys.session(ns, "t")
    await store.mux.execute(
        "HSET", session, "create_ms", 1, "formed_through", "0-0", "evicted_count", 4
    )
    old = await legacy(store, ns, 1, "User asked about the deploy.", unit(50))
    items = [
        item(store, ns, 2, "user asked about the deploy.", unit(51)),
        item(store, ns, 3, "The deploy runs at noon.", unit(52)),
    ]
    script = scripts.load(store.mux, MemoryForm)
    call = MemoryForm(
        session=session, sequence=keys.memory_sequence(ns),
        documents=[keys.memory(ns, ulid(2)), keys.memory(ns, ulid(3))], create_ms="1",
        formed_through="0-0", through="4-0", turns=4, skipped=0, index=INDEX,
        legacy_index=LEGACY_INDEX, vector_type=store.vector_type, max_distance=MAX_DISTANCE,
        prefix=keys.memory(ns, ""), items=items,
    )  # fmt: skip
    reply = await script(call)
    assert [reply[0], read(reply[1])["id"], read(reply[1])["h"], reply[2]] == [
        1, ulid(1).encode(), b"2", b""
    ]  # fmt: skip
    assert await store.mux.execute("TYPE", old) == b"hash"
    assert (await hash_of(store, keys.memory(ns, ulid(3))))["q"] == b"1"
    # Formed once: the same chunk again changes nothing.
    assert await script(call) == [0]
    assert (await hash_of(store, old))["h"] == b"2"


@pytest.mark.parametrize("legacy_index", ["", "memrpc:idx:mem:gone"])
async def test_no_legacy_index_finds_no_legacy_duplicate(
    store: Store, ns: str, legacy_index: str
) -> None:
    await legacy(store, ns, 1, "only in JSON", unit(15))
    it = item(store, ns, 2, "only in JSON", unit(15))
    assert await insert(store, ns, [it], legacy_index=legacy_index) == [[b"written"]]


# -- Update ---------------------------------------------------------------------


async def update(store: Store, ns: str, i: int, **fields: Any) -> Any:
    script = scripts.load(store.mux, DedupUpdate)
    text = fields.pop("text", "")
    queries = dedup_queries(ns, now_ms(), "", Kind.SEMANTIC, text, nearest=ORIGINAL_FIELD)
    vector = fields.pop("vector", None)
    values: dict[str, Any] = {
        "expected_version": "", "expire_ms": "", "pinned": "", "changes": [("um", str(NOW + 9))],
        "exact": queries.exact if text else "",
        "legacy_exact": queries.legacy_exact if text else "", "knn": queries.knn if text else "",
        "vector": b"" if vector is None else store.vector_type.blob(vector),
        "field": "v", "other_field": "", "other_vector": b"",
    }  # fmt: skip
    call = DedupUpdate(
        document=keys.memory(ns, ulid(i)),
        probe=keys.probe(ns),
        index=INDEX,
        legacy_index=LEGACY_INDEX,
        vector_type=store.vector_type,
        max_distance=MAX_DISTANCE,
        prefix=keys.memory(ns, ""),
        **(values | fields),
    )
    return await script(call)


async def test_an_update_converts_then_writes_the_next_version(store: Store, ns: str) -> None:
    key = await legacy(store, ns, 1, "before", unit(16), topics=("a",), pinned=True)
    vector = unit(17)
    changes = [("t", "after"), ("um", str(NOW + 50)), ("tp", "")]
    reply = await update(
        store, ns, 1, text="after", vector=vector, expected_version="1", expire_ms=str(LATER),
        changes=changes,
    )  # fmt: skip
    assert reply[0] == b"written"
    memory = read(reply[1])
    assert (memory["t"], memory["vr"], memory["e"], memory["p"]) == (
        b"after", b"2", str(LATER).encode(), b"1"
    )  # fmt: skip
    assert "tp" not in memory
    stored = await hash_of(store, key)
    assert stored["v"] == store.vector_type.blob(vector)
    assert await store.mux.execute("PEXPIRETIME", key) == LATER
    # Unpinned, its other flags kept; its expiry removed.
    await store.mux.execute("HSET", key, "f", "pinned,superseded")
    reply = await update(store, ns, 1, pinned="0", expire_ms="0", expected_version="2")
    stored = await hash_of(store, key)
    assert (stored["vr"], stored["f"]) == (b"3", b"superseded")
    assert not {"p", "e"} & set(stored)
    assert await store.mux.execute("PTTL", key) == -1
    assert await update(store, ns, 1, expected_version="2") == [b"mismatch", 3]
    assert await update(store, ns, 9) == [b"missing"]
    assert await update(store, ns, 9, expected_version="1") == [b"mismatch", 0]


async def test_an_update_repeating_a_legacy_memory_writes_nothing(store: Store, ns: str) -> None:
    other = await legacy(store, ns, 1, "the other text", unit(18))
    key = await legacy(store, ns, 2, "mine", unit(19))
    reply = await update(store, ns, 2, text="The other  text", vector=unit(20))
    assert reply[:2] == [b"duplicate", b"0"]
    assert read(reply[2])["id"] == ulid(1).encode()
    assert await store.mux.execute("TYPE", other) == b"hash"
    assert (await hash_of(store, key))["t"] == b"mine"


# -- Consolidation, forgetting, access, deletes -----------------------------------


async def test_a_merge_of_legacy_memories_sums_into_the_survivor(store: Store, ns: str) -> None:
    vector = unit(21)
    survivor = await legacy(
        store, ns, 1, "survivor", vector, user_id="Jörg", hit_count=2, access_count=1,
        last_access_ms=NOW + 5, merged_ids=[ulid(7)],
    )  # fmt: skip
    loser = await legacy(
        store, ns, 2, "loser", near(vector, 0.1, 22), user_id="Jörg", access_count=3,
        last_access_ms=NOW + 9, merged_ids=[ulid(8)],
    )  # fmt: skip
    script = scripts.load(store.mux, MemoryMerge)
    call = MemoryMerge(
        survivor=survivor, loser=loser, survivor_version=1, loser_version=1, distance=0.1,
        vector_type=store.vector_type, **changes_thread(ns, "memrpc.memory_merged"),
    )  # fmt: skip
    reply = await script(call)
    assert reply == [1, 3]
    stored = await hash_of(store, survivor)
    assert (stored["h"], stored["ac"], stored["la"]) == (b"3", b"4", str(NOW + 9).encode())
    assert json.loads(stored["mg"]) == [ulid(7), ulid(2), ulid(8)]
    assert "r" not in stored  # neither was recalled since its creation
    assert not await store.mux.execute("EXISTS", loser)
    assert await events(store, ns) == [
        (
            "memrpc.memory_merged",
            {
                "memory_id": ulid(1), "merged_memory_id": ulid(2), "user_id": "Jörg",
                "kind": "semantic", "distance": 0.1, "merged_text": "loser", "hit_count": 3,
            },
        )
    ]  # fmt: skip


async def test_a_supersession_of_legacy_memories_flags_the_older(store: Store, ns: str) -> None:
    older = await legacy(store, ns, 1, "lives in Paris", unit(23), user_id="ada", pinned=True)
    newer = await legacy(store, ns, 2, "lives in Rome", unit(24), user_id="ada")
    script = scripts.load(store.mux, MemorySupersede)
    call = MemorySupersede(
        older=older, newer=newer, older_version=1, newer_version=1, flag=Flag.SUPERSEDED,
        vector_type=store.vector_type, **changes_thread(ns, "memrpc.memory_superseded"),
    )  # fmt: skip
    reply = await script(call)
    assert reply == 1
    stored = await hash_of(store, older)
    assert (stored["sb"], stored["f"], stored.get("vr")) == (
        ulid(2).encode(),
        b"pinned,superseded",
        None,
    )
    assert await events(store, ns) == [
        (
            "memrpc.memory_superseded",
            {
                "memory_id": ulid(1), "superseded_by_memory_id": ulid(2), "user_id": "ada",
                "text": "lives in Paris", "superseding_text": "lives in Rome",
            },
        )
    ]  # fmt: skip
    # Superseded: no longer current for a second supersession.
    assert await script(call) == 0


async def test_forgetting_a_legacy_memory_as_read(store: Store, ns: str) -> None:
    kept = await legacy(store, ns, 1, "recalled since", unit(25))
    gone = await legacy(
        store, ns, 2, "forget me", unit(26), user_id="ada", kind=Kind.EPISODIC, hit_count=2,
        access_count=1, last_access_ms=NOW + 1000,
    )  # fmt: skip
    pinned = await legacy(store, ns, 3, "pinned", unit(27), pinned=True)
    script = scripts.load(store.mux, MemoryForget)
    call = MemoryForget(
        probe=keys.probe(ns), documents=[kept, gone, pinned], rule="unrecalled", index=INDEX,
        count_query="", keep=0,
        vector_type=store.vector_type, expected=[(1, str(NOW - 1)), (1, ""), (1, "")],
        **changes_thread(ns, "memrpc.memory_forgotten"),
    )  # fmt: skip
    reply = await script(call)
    assert reply == [1, 0]
    assert [await store.mux.execute("EXISTS", key) for key in (kept, gone, pinned)] == [1, 0, 1]
    assert await events(store, ns) == [
        (
            "memrpc.memory_forgotten",
            {
                "memory_id": ulid(2), "user_id": "ada", "kind": "episodic", "text": "forget me",
                "rule": "unrecalled", "hit_count": 2, "access_count": 1,
                "create_time": "2023-11-14T22:13:20.000Z",
                "last_access_time": "2023-11-14T22:13:21.000Z",
            },
        )
    ]  # fmt: skip


async def test_an_access_of_a_legacy_memory_moves_its_counts_forward(store: Store, ns: str) -> None:
    key = await legacy(store, ns, 1, "looked up", unit(28), access_count=2, last_access_ms=NOW + 9)
    script = scripts.load(store.mux, MemoryAccess)
    call = MemoryAccess(
        documents=[key, keys.memory(ns, ulid(2))], prefix=keys.memory(ns, ""),
        vector_type=store.vector_type, accesses=[(3, NOW + 5), (1, NOW + 5)],
    )  # fmt: skip
    assert await script(call) == 1
    stored = await hash_of(store, key)
    assert (stored["ac"], stored["la"], stored["r"]) == (
        b"5", str(NOW + 9).encode(), str(NOW + 5).encode()
    )  # fmt: skip
    assert not await store.mux.execute("EXISTS", keys.memory(ns, ulid(2)))


async def test_a_delete_checks_a_legacy_memorys_version(store: Store, ns: str) -> None:
    key = await legacy(store, ns, 1, "old", unit(29), version=2)
    script = scripts.load(store.mux, DeleteMemory)
    assert await script(
        DeleteMemory(document=key, expected_version="1", vector_type=store.vector_type)
    ) == [2, 0]
    assert await script(
        DeleteMemory(document=key, expected_version="2", vector_type=store.vector_type)
    ) == [2, 1]
    assert not await store.mux.execute("EXISTS", key)


async def test_deleting_by_query_deletes_the_matches_of_both_indexes(store: Store, ns: str) -> None:
    for i in range(3):
        await legacy(store, ns, i, f"legacy {i}", unit(30 + i))
    items = [item(store, ns, 10 + i, f"hash {i}", unit(40 + i)) for i in range(2)]
    assert await insert(store, ns, items) == [[b"written"]] * 2
    script = scripts.load(store.mux, DeleteMemories)
    call = DeleteMemories(
        prefix=keys.memory(ns, ""), probe=keys.probe(ns), index=INDEX, legacy_index=LEGACY_INDEX,
        query=f"@ns:{{{keys.tag_value(ns)}}}", batch_size=4,
    )  # fmt: skip
    assert await script(call) == [4, 4]
    assert await script(call) == [1, 1]
    assert await script(call) == [0, 0]
    assert await legacy_count(store, ns) == 0
