"""The online migration of storage schema 2 (JSON documents) to schema 4
(Hashes): `store/migration.py` and `jobs/migration.py`, on the data the
previous version wrote (`schema2_fixture.py`), loaded into a Redis of the
test's own.

The store and runner tests need the converter (`lua/memory_upgrade.lua`,
`MemoryUpgrade`). The END-TO-END tests (`test_e2e_*`) also need the schema-4
server (the store modules and every script reading both indexes): they
pass once the three branches of issue 17 are merged.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import pytest
from google.protobuf import field_mask_pb2, json_format, timestamp_pb2

from memrpc.embedded_redis import EmbeddedRedis, ServerBinary
from memrpc.embedding import BatchingEmbedder
from memrpc.jobs.migration import MigrationRunner
from memrpc.jobs.runner import RunnerPolicy
from memrpc.limits import MIGRATION_BATCH
from memrpc.store import keys, memory_document, scripts
from memrpc.store.legacy_search import LegacySearch
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import (
    INDEX,
    LEGACY_INDEX,
    create_command,
    metadata_tags,
    text_hash,
    vector_type_of,
)
from memrpc.store.migration import (
    Migration,
    MigrationError,
    MigrationLease,
    namespace_of,
)
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import MemoryUpgrade
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub
from schema2_fixture import Fixture, load, read

pytestmark = pytest.mark.genuine_redis

FIXTURE = read()
DIM = 384
POLICY = RunnerPolicy(claim_idle_s=30.0, max_deliveries=3)
# The most steps a migration of the fixture takes: far more than it needs.
MAX_STEPS = 100
# How long a runner may take to migrate the fixture and end, at most.
RUNNER_S = 60.0


@pytest.fixture
async def own(tmp_path: Path, server_binary: ServerBinary) -> AsyncIterator[EmbeddedRedis]:
    """A Redis of the test's own, with no memory."""
    server = EmbeddedRedis(tmp_path / "redis", port=0, binary=server_binary)
    await server.astart()
    try:
        yield server
    finally:
        await server.astop()


@pytest.fixture
async def redis(own: EmbeddedRedis) -> AsyncIterator[RedisMux]:
    client = RedisMux(own.url)
    try:
        yield client
    finally:
        await client.aclose()


async def legacy_store(
    redis: RedisMux, vector_type: VectorType = VectorType.FLOAT32, fixture: Fixture = FIXTURE
) -> None:
    """`redis` as the previous version left it, and the schema-4 index a new
    server creates when it starts."""
    await load(redis, fixture)
    await redis.execute(*create_command(DIM, vector_type))


def memory_keys(fixture: Fixture = FIXTURE) -> list[str]:
    return [memory["key"] for memory in fixture.memories]


async def types(redis: RedisMux) -> dict[str, str]:
    """The type of every memory key of the fixture (`none`: gone)."""
    return {key: (await redis.execute("TYPE", key)).decode() for key in memory_keys()}


async def indexes(redis: RedisMux) -> set[str]:
    return {name.decode() for name in await redis.execute("FT._LIST")}


async def num_docs(redis: RedisMux, index: str) -> int:
    info = await redis.execute("FT.INFO", index)
    return int(info[info.index(b"num_docs") + 1])


async def migrate(migration: Migration, vector_type: VectorType, *, steps: int = MAX_STEPS) -> int:
    """Runs at most `steps` steps (until the legacy index is dropped);
    returns the steps that converted memories."""
    converting = 0
    for _ in range(steps):
        step = await migration.step(vector_type)
        assert step.converted <= MIGRATION_BATCH
        if step.dropped:
            return converting
        converting += 1
    return converting


# -- What a converted memory holds: the contract (memory_document), read
# -- from the schema-2 document independently of the converter.


def _joined(values: list[str]) -> str | None:
    return memory_document.joined(values) or None


def _positive(value: int | None) -> str | None:
    return str(value) if value else None


def expected_hash(document: dict[str, Any]) -> dict[str, Any]:
    """The fields of the Hash a schema-2 document becomes, but `v`: the text
    hash and metadata tags as `memory_index` makes them, text values as
    strings, the JSON ones (`md`, `se`, `mg`) decoded; a field
    absent when it holds its default."""
    memory, tags = document["memory"], document["tags"]
    create_ms = memory["create_ms"]
    fields: dict[str, Any] = {
        "id": memory["id"], "n": tags["ns"], "s": tags["scope"], "u": tags["user"],
        "th": tags["thread"], "k": tags["kind"], "tp": _joined(tags["topics"]),
        # The hashes of the text and metadata as this code makes them.
        "x": str(text_hash(memory["text"])), "t": memory["text"],
        "md": memory["metadata"] or None,
        "mt": _joined(metadata_tags(memory["metadata"] or {})), "c": str(create_ms),
        "um": None if memory.get("update_ms", create_ms) == create_ms else str(memory["update_ms"]),
        "e": _positive(memory["expire_ms"]), "h": str(memory["hit_count"]),
        "vr": None if memory.get("version", 1) == 1 else str(memory["version"]),
        "f": _joined(tags.get("flags", [])),
        # Schema 2 wrote the creation as the recall until a search's: then none.
        "r": None if document.get("recalled_ms") == create_ms
        else _positive(document.get("recalled_ms")),
        "ev": None if memory.get("event_ms") is None else str(memory["event_ms"]),
        "q": _positive(document.get("seq")), "src": memory.get("source") or None,
        "se": memory.get("source_event_ids") or None, "sm": _positive(memory.get("start_ms")),
        "em": _positive(memory.get("end_ms")), "p": "1" if memory.get("pinned") else None,
        "ac": _positive(memory.get("access_count")),
        "la": _positive(memory.get("last_access_ms")),
        "mg": memory.get("merged_ids") or None, "sb": memory.get("superseded_by") or None,
    }  # fmt: skip
    return {name: value for name, value in fields.items() if value is not None}


async def stored_hash(redis: RedisMux, key: str) -> tuple[dict[str, str], bytes]:
    """A memory's Hash: its fields as text, and its vector blob."""
    flat = await redis.execute("HGETALL", key)
    found = dict(zip(flat[::2], flat[1::2], strict=True))
    vector = found.pop(b"v")
    return {name.decode(): value.decode() for name, value in found.items()}, vector


def comparable(fields: dict[str, str]) -> dict[str, Any]:
    """Hash fields as `expected_hash` writes them: the JSON ones decoded (the
    converter's JSON need not be spelled as Python's)."""
    return {name: json.loads(value) if name in ("md", "se", "mg") else value
            for name, value in fields.items()}  # fmt: skip


def expected_blob(document: dict[str, Any], vector_type: VectorType) -> bytes:
    """The vector of a document as the contract stores it: its values as
    float32, then (FLOAT16) to IEEE half, to nearest even."""
    return vector_type.blob(np.asarray(document["embedding"], dtype=np.float32))


# -- What the previous version's API returned, in `memory_document.decode`'s terms.


def _ms(memory: dict[str, Any], name: str) -> int:
    if name not in memory:
        return 0
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(memory[name])
    return stamp.ToMilliseconds()


def from_api(memory: dict[str, Any]) -> dict[str, Any]:
    """A memory as `GetMemory` returned it (protobuf JSON), as `decode` reads it."""
    return {
        "id": memory["id"], "namespace": memory["namespace"],
        "user_id": memory.get("userId", ""),
        "kind": memory["kind"].removeprefix("MEMORY_KIND_").lower(),
        "thread_id": memory.get("threadId", ""), "topics": memory.get("topics", []),
        "text": memory["text"], "metadata": memory.get("metadata", {}),
        "create_ms": _ms(memory, "createTime"), "update_ms": _ms(memory, "updateTime"),
        "expire_ms": _ms(memory, "expireTime"), "hit_count": int(memory["hitCount"]),
        "version": int(memory["version"]),
        "source": memory.get("source", "").removeprefix("MEMORY_SOURCE_").lower(),
        "source_event_ids": memory.get("sourceEventIds", []),
        "start_ms": _ms(memory, "startTime"), "end_ms": _ms(memory, "endTime"),
        "pinned": memory.get("pinned", False), "access_count": int(memory.get("accessCount", 0)),
        "last_access_ms": _ms(memory, "lastAccessTime"),
        "merged_ids": memory.get("mergedMemoryIds", []),
        "superseded_by": memory.get("supersededByMemoryId", ""),
        "event_ms": _ms(memory, "eventTime") if "eventTime" in memory else None,
    }  # fmt: skip


async def assert_migrated(redis: RedisMux, vector_type: VectorType) -> None:
    """Every fixture memory is the Hash the contract makes of its document,
    reads back as the previous version returned it, with its expiry, and is
    in the schema-4 index; the legacy index is gone."""
    assert LEGACY_INDEX not in await indexes(redis)
    assert set((await types(redis)).values()) == {"hash"}
    for memory in FIXTURE.memories:
        key, document = memory["key"], memory["document"]
        fields, vector = await stored_hash(redis, key)
        assert comparable(fields) == expected_hash(document), key
        assert vector == expected_blob(document, vector_type), key
        assert await redis.execute("PEXPIRETIME", key) == memory["pexpiretime"], key
        decoded = memory_document.decode(fields)
        assert decoded == from_api(FIXTURE.api[document["memory"]["id"]]), key
    assert await num_docs(redis, INDEX) == len(FIXTURE.memories)


# -- The store -------------------------------------------------------------


def test_the_fixture_holds_what_the_migration_must_carry() -> None:
    """Varied enough to matter: three namespaces, both kinds, expiring and
    not, pinned, duplicates, updates, accesses, a merge, formed memories."""
    api = list(FIXTURE.api.values())
    assert len(FIXTURE.memories) == len(api) == 12
    assert {memory["namespace"] for memory in api} == {"mig-alpha", "mig-beta", "mig-turns"}
    assert {memory["kind"] for memory in api} == {"MEMORY_KIND_SEMANTIC", "MEMORY_KIND_EPISODIC"}
    for memory in FIXTURE.memories:  # the old version's expiry: the memory's
        assert memory["pexpiretime"] == (memory["document"]["memory"]["expire_ms"] or -1)
    assert {memory["pexpiretime"] > 0 for memory in FIXTURE.memories} == {True, False}
    for field in ("pinned", "accessCount", "mergedMemoryIds", "sourceEventIds", "eventTime"):
        assert any(field in memory for memory in api), field
    assert any(int(memory["hitCount"]) > 1 for memory in api)
    assert any(int(memory["version"]) > 2 for memory in api)


@pytest.mark.parametrize("vector_type", list(VectorType))
async def test_steps_convert_every_document_then_drop_the_legacy_index(
    redis: RedisMux, vector_type: VectorType
) -> None:
    await legacy_store(redis, vector_type)
    migration = Migration(redis)
    assert await migration.vector_type() == vector_type
    assert await migration.left() == len(FIXTURE.memories)
    first = await migration.step(vector_type)
    assert first.converted == MIGRATION_BATCH
    assert await migration.left() == len(FIXTURE.memories) - MIGRATION_BATCH
    steps = await migrate(migration, vector_type)
    assert steps == -(-(len(FIXTURE.memories) - MIGRATION_BATCH) // MIGRATION_BATCH)
    assert not await migration.pending()
    assert await migration.left() == 0
    await assert_migrated(redis, vector_type)


async def test_a_document_of_an_older_version_gets_the_defaults(redis: RedisMux) -> None:
    """Documents written before versions, sources, pins, access counts,
    merges, event times, recall times, flags and metadata tags were."""
    memory = FIXTURE.memories[0]
    document = json.loads(json.dumps(memory["document"]))
    for field in (
        "version",
        "source",
        "source_event_ids",
        "start_ms",
        "end_ms",
        "pinned",
        "access_count",
        "last_access_ms",
        "merged_ids",
        "superseded_by",
        "event_ms",
    ):
        document["memory"].pop(field)  # fmt: skip
    document.pop("recalled_ms")
    document["tags"].pop("flags")
    document["tags"].pop("meta")
    old = Fixture([{**memory, "document": document}], FIXTURE.keys, FIXTURE.api)
    await legacy_store(redis, fixture=old)
    await migrate(Migration(redis), VectorType.FLOAT32)
    fields, _ = await stored_hash(redis, memory["key"])
    assert comparable(fields) == expected_hash(document)
    decoded = memory_document.decode(fields)
    assert decoded["version"] == 1
    assert (decoded["source"], decoded["pinned"], decoded["event_ms"]) == ("", False, None)


async def test_a_crashed_migration_resumes_where_the_legacy_index_says(redis: RedisMux) -> None:
    """A process that dies between steps (a step is one script per
    namespace: atomic) leaves converted Hashes and legacy documents; another
    process's migration converts the rest, and converting again changes
    nothing."""
    await legacy_store(redis)
    await migrate(Migration(redis), VectorType.FLOAT32, steps=1)
    converted = [key for key, kind in (await types(redis)).items() if kind == "hash"]
    assert len(converted) == MIGRATION_BATCH
    before = {key: await redis.execute("HGETALL", key) for key in converted}
    await scripts.load(redis, MemoryUpgrade)(
        MemoryUpgrade(documents=converted[:2], vector_type=VectorType.FLOAT32, fields=[])
    )
    assert {key: await redis.execute("HGETALL", key) for key in converted} == before
    await migrate(Migration(redis), VectorType.FLOAT32)
    await assert_migrated(redis, VectorType.FLOAT32)


# Indexed by the legacy index (it has a text), but no memory: no tags, no
# embedding. (A document with no indexed field at all is not indexed, so
# neither migrated nor found: it never stalls anything.)
UNREADABLE = '{"memory":{"id":"hand-written","text":"not written by memrpc"}}'


async def unreadable_documents(redis: RedisMux) -> list[str]:
    """Two JSON documents the legacy index holds but the converter cannot
    read, beside the fixture: in namespaces of the fixture's, so that they
    share a step's script with readable ones."""
    namespaces = sorted({namespace_of(key) for key in memory_keys()})[:2]
    bad = [keys.memory(ns, f"01J0000000000000000000BAD{i}") for i, ns in enumerate(namespaces)]
    for key in bad:
        await redis.execute("JSON.SET", key, "$", UNREADABLE)
    return bad


async def test_a_document_that_is_no_memory_is_set_aside_and_the_migration_ends(
    redis: RedisMux, caplog: pytest.LogCaptureFixture
) -> None:
    """Rather than failing every step (and every search) for good, the
    migration renames such a document out of the memories' prefix, unchanged,
    says so in the log, and converts everything else."""
    await legacy_store(redis)
    bad = await unreadable_documents(redis)
    assert await Migration(redis).left() == len(FIXTURE.memories) + len(bad)
    with caplog.at_level("WARNING", logger="memrpc.store"):
        await migrate(Migration(redis), VectorType.FLOAT32)
    await assert_migrated(redis, VectorType.FLOAT32)
    for key in bad:
        assert not await redis.execute("EXISTS", key)
        assert await redis.execute("JSON.GET", keys.unreadable_memory(key)) == UNREADABLE.encode()
        assert f"{key} is no memory of storage schema 2" in caplog.text
    assert keys.unreadable_memory(bad[0]).startswith("memrpc:unreadable:{")


async def test_a_search_that_finds_a_document_that_is_no_memory_reads_past_it(
    redis: RedisMux,
) -> None:
    """The legacy hits of a search are converted on the spot; a batch with
    one the converter refuses returns the others, and that one as gone."""
    await legacy_store(redis)
    bad = await unreadable_documents(redis)
    good = [key for key in memory_keys() if namespace_of(key) == namespace_of(bad[0])][:2]
    search = LegacySearch(redis.execute, scripts.load(redis, MemoryUpgrade), VectorType.FLOAT32)
    found = await search.upgrade([good[0], bad[0], good[1]], ["id"])
    assert found[1] == []
    assert [row[0].decode() for row in (found[0], found[2])] == [
        key.rsplit(":", 1)[1] for key in good
    ]
    assert await redis.execute("TYPE", keys.unreadable_memory(bad[0])) == b"ReJSON-RL"


async def test_the_new_index_decides_the_vector_type(redis: RedisMux) -> None:
    migration = Migration(redis)
    with pytest.raises(MigrationError, match=f"{INDEX} does not exist yet"):
        await migration.vector_type()
    await redis.execute(*create_command(DIM, VectorType.FLOAT16))
    assert vector_type_of(await redis.execute("FT.INFO", INDEX)) == VectorType.FLOAT16
    assert namespace_of(keys.memory("a:b", "01H")) == "a:b"


# -- The job ---------------------------------------------------------------


async def until_ended(runner: MigrationRunner) -> None:
    """Runs `runner` until it ends by itself (at most `RUNNER_S`)."""
    await asyncio.wait_for(runner.run(), RUNNER_S)
    assert runner.state.done
    assert not runner.loop.error


async def test_without_legacy_data_a_runner_asks_once_and_ends(redis: RedisMux) -> None:
    await redis.execute(*create_command(DIM, VectorType.FLOAT32))
    await redis.execute("CONFIG", "RESETSTAT")
    await until_ended(MigrationRunner(redis, POLICY))
    stats = (await redis.execute("INFO", "commandstats")).decode().lower()
    called = {line.split(":", 1)[0] for line in stats.splitlines() if line.startswith("cmdstat_")}
    assert called - {"cmdstat_config|resetstat"} == {"cmdstat_ft._list"}, called
    assert "cmdstat_ft._list:calls=1," in stats


async def test_runners_of_two_processes_migrate_everything_and_end(redis: RedisMux) -> None:
    await legacy_store(redis)
    one, other = MigrationRunner(redis, POLICY), MigrationRunner(redis, POLICY)
    await asyncio.gather(until_ended(one), until_ended(other))
    assert one.state.converted + other.state.converted == len(FIXTURE.memories)
    assert await redis.execute("EXISTS", keys.migration_lease()) == 0
    await assert_migrated(redis, VectorType.FLOAT32)


async def test_a_runner_that_died_holding_the_lease_is_taken_over(redis: RedisMux) -> None:
    await legacy_store(redis)
    await migrate(Migration(redis), VectorType.FLOAT32, steps=1)
    assert await MigrationLease(redis).take(300) == 0  # its runner dies here
    runner = MigrationRunner(redis, POLICY)
    await until_ended(runner)
    assert runner.state.converted == len(FIXTURE.memories) - MIGRATION_BATCH
    await assert_migrated(redis, VectorType.FLOAT32)


# -- END-TO-END: the schema-4 server on the previous version's data --------


async def convert(redis: RedisMux, documents: list[str]) -> None:
    """Converts `documents` as a step would (one call per namespace), to the
    vector type of the schema-4 index."""
    upgrade = scripts.load(redis, MemoryUpgrade)
    vector_type = await Migration(redis).vector_type()
    for ns in sorted({namespace_of(key) for key in documents}):
        group = [key for key in documents if namespace_of(key) == ns]
        await upgrade(MemoryUpgrade(documents=group, vector_type=vector_type, fields=[]))


def by_text(text: str) -> dict[str, Any]:
    [memory] = [m for m in FIXTURE.api.values() if m["text"] == text]
    return memory


def key_of(memory: dict[str, Any]) -> str:
    return keys.memory(memory["namespace"], memory["id"])


async def get(ltm: LongTermMemoryStub, memory: dict[str, Any]) -> dict[str, Any]:
    reply = await ltm.GetMemory(
        lpb.GetMemoryRequest(namespace=memory["namespace"], memory_id=memory["id"])
    )
    return json_format.MessageToDict(reply.memory)


ACCESS = ("accessCount", "lastAccessTime")


OCAML = by_text("Ada's favourite programming language is OCaml.")
OFFICE = by_text("The office closes at 6 pm on Fridays.")
LICENCE = by_text("The trial licence is valid for one year.")
STAGING = by_text("Deployed release 4.2 to the staging cluster.")
PEANUTS = [m for m in FIXTURE.api.values() if m["text"] == "Ada is allergic to peanuts."]
KOELN = by_text("Jörg wohnt jetzt in Köln-Ehrenfeld.")
TEA = by_text("In the morning Ada prefers tea to coffee.")


async def half_migrated(redis: RedisMux) -> set[str]:
    """About half the fixture converted, but for the memories the test
    writes to (`OFFICE` converted); the keys still JSON."""
    stay = {key_of(OCAML), key_of(LICENCE), key_of(STAGING), key_of(KOELN), key_of(TEA)}
    converted = {key_of(OFFICE), *(key_of(memory) for memory in PEANUTS)}
    half = {key for key in memory_keys()[::2] if key not in stay} | converted
    await convert(redis, sorted(half))
    legacy = {key for key, kind in (await types(redis)).items() if kind == "ReJSON-RL"}
    assert legacy == set(memory_keys()) - half
    return legacy


async def traffic(ltm: LongTermMemoryStub) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Reads, a search, creates, an update and a delete on the half-migrated
    fixture; returns the fields the writes changed (by id, as they are now)
    and the ids the search returned (their access counts grow)."""
    for memory in FIXTURE.api.values():
        assert await get(ltm, memory) == memory, memory["id"]
    await listed_across_both_indexes(ltm)
    found = await ltm.SearchMemories(
        lpb.SearchMemoriesRequest(namespace="mig-alpha", text="Which language does Ada like?")
    )
    assert found.matches[0].memory.id == OCAML["id"]
    await found_in_both_indexes(ltm)
    created = await ltm.CreateMemories(
        lpb.CreateMemoriesRequest(
            namespace="mig-alpha",
            memories=[
                lpb.MemoryInput(text=OCAML["text"], user_id="ada"),
                lpb.MemoryInput(text="the office closes at 6 PM on Fridays."),
                lpb.MemoryInput(text="Ada's desk is on the third floor.", user_id="ada"),
            ],
        )
    )
    assert [(r.outcome, r.memory.id) for r in created.results][:2] == [
        (lpb.CREATE_OUTCOME_DUPLICATE, OCAML["id"]),
        (lpb.CREATE_OUTCOME_DUPLICATE, OFFICE["id"]),
    ]
    assert created.results[2].outcome == lpb.CREATE_OUTCOME_CREATED
    changed = {
        memory["id"]: {"hitCount": str(int(memory["hitCount"]) + 1)}
        for memory in (OCAML, OFFICE, TEA)
    }
    assert created.results[0].memory.hit_count == int(OCAML["hitCount"]) + 1
    updated = await ltm.UpdateMemory(
        lpb.UpdateMemoryRequest(
            namespace="mig-alpha",
            memory_id=LICENCE["id"],
            memory=lpb.MemoryInput(text="The trial licence is valid for two years."),
            update_mask=field_mask_pb2.FieldMask(paths=["text"]),
            expected_version=int(LICENCE["version"]),
        )
    )
    assert updated.memory.version == int(LICENCE["version"]) + 1
    after = json_format.MessageToDict(updated.memory)
    changed[LICENCE["id"]] = {name: after[name] for name in ("text", "version", "updateTime")}
    await ltm.DeleteMemory(lpb.DeleteMemoryRequest(namespace="mig-beta", memory_id=STAGING["id"]))
    return changed, {match.memory.id for match in found.matches}


async def listed_across_both_indexes(ltm: LongTermMemoryStub) -> None:
    """Each namespace's listing holds its memories of both indexes, once
    each, in both orders, whatever the page size."""
    orders = {
        lpb.MEMORY_ORDER_NEWEST_FIRST: lambda m: m["id"],
        lpb.MEMORY_ORDER_MOST_HIT: lambda m: (int(m.get("hitCount", "1")), m["id"]),
    }
    for ns in sorted({memory["namespace"] for memory in FIXTURE.api.values()}):
        held = [memory for memory in FIXTURE.api.values() if memory["namespace"] == ns]
        for order, key in orders.items():
            expected = [memory["id"] for memory in sorted(held, key=key, reverse=True)]
            for page_size in (1, 2, 3, 100):
                listed: list[str] = []
                token = ""
                for _ in range(len(held) + 1):
                    page = await ltm.ListMemories(
                        lpb.ListMemoriesRequest(
                            namespace=ns, page_size=page_size, page_token=token, order=order
                        )
                    )
                    listed += [memory.id for memory in page.memories]
                    token = page.next_page_token
                    if not token:
                        break
                assert listed == expected, (ns, order, page_size)


async def found_in_both_indexes(ltm: LongTermMemoryStub) -> None:
    """The queries whose parts differ between the two indexes find memories
    in each: metadata filters (tags of 16 and of 32 hex digits), hybrid
    recall's distances (text hashes: numbers and TAGs) and the exact-text
    dedup (which alone finds a repeat when `dedup_max_distance` is 0)."""
    [peanuts] = [m for m in PEANUTS if m["namespace"] == "mig-alpha"]
    for memory, key, value in ((peanuts, "severity", "high"), (KOELN, "since", "2025")):
        flt = lpb.MemoryFilter(metadata=[lpb.MetadataFilter(key=key, values=[value])])
        found = await ltm.SearchMemories(
            lpb.SearchMemoriesRequest(
                namespace="mig-alpha", text="where", filter=flt, max_distance=2
            )
        )
        assert [match.memory.id for match in found.matches] == [memory["id"]]
    hybrid = await ltm.SearchMemories(
        lpb.SearchMemoriesRequest(
            namespace="mig-alpha", text="Köln", mode=lpb.RECALL_MODE_HYBRID, limit=1
        )
    )
    assert [match.memory.id for match in hybrid.matches] == [KOELN["id"]]
    assert hybrid.matches[0].distance < 1
    exact = await ltm.CreateMemories(
        lpb.CreateMemoriesRequest(
            namespace="mig-alpha",
            memories=[
                lpb.MemoryInput(text="in the morning ada prefers TEA to coffee.", user_id="ada")
            ],
            dedup_max_distance=0,
        )
    )
    assert [(r.outcome, r.memory.id) for r in exact.results] == [
        (lpb.CREATE_OUTCOME_DUPLICATE, TEA["id"])
    ]


async def assert_served_after(
    ltm: LongTermMemoryStub, changed: dict[str, dict[str, Any]], searched: set[str]
) -> None:
    """Every fixture memory but the deleted one reads back as the previous
    version returned it, but for what the test changed, and a search for
    its text finds it."""
    for memory in FIXTURE.api.values():
        if memory["id"] == STAGING["id"]:
            with pytest.raises(grpc.aio.AioRpcError) as gone:
                await get(ltm, memory)
            assert gone.value.code() == grpc.StatusCode.NOT_FOUND
            continue
        now = await get(ltm, memory)
        expected = memory | changed.get(memory["id"], {})
        if memory["id"] in searched:  # its access counts grew, in the background
            now = {k: v for k, v in now.items() if k not in ACCESS}
            expected = {k: v for k, v in expected.items() if k not in ACCESS}
        assert now == expected, memory["id"]
        found = await ltm.SearchMemories(
            lpb.SearchMemoriesRequest(namespace=memory["namespace"], text=now["text"], limit=3)
        )
        assert memory["id"] in [m.memory.id for m in found.matches], memory["id"]


async def test_e2e_the_new_server_serves_the_old_data_during_and_after_the_migration(
    own: EmbeddedRedis, redis: RedisMux, embedder: BatchingEmbedder
) -> None:
    """END-TO-END (after the merge). Half the memories converted, half still
    JSON: reads, searches, creates (a duplicate of a legacy memory counts a
    hit, a new one is a Hash), updates and deletes work on both; then the
    job migrates the rest, and every memory reads back as the previous
    version returned it, but what the test changed, and is found."""
    from conftest import make_settings, running  # the server: after the merge

    await load(redis, FIXTURE)
    settings = make_settings(own.url, jobs=False)
    async with (
        running(settings, embedder) as server,  # it creates the schema-4 index
        grpc.aio.insecure_channel(f"127.0.0.1:{server.port}") as channel,
    ):
        legacy = await half_migrated(redis)
        ltm = LongTermMemoryStub(channel)
        changed, searched = await traffic(ltm)
        runner = MigrationRunner(redis, POLICY)
        await until_ended(runner)
        assert runner.state.converted <= len(legacy) - 1  # the writes converted some
        assert LEGACY_INDEX not in await indexes(redis)
        assert "ReJSON-RL" not in set((await types(redis)).values())
        await assert_served_after(ltm, changed, searched)


async def test_e2e_a_server_with_jobs_migrates_the_old_data_when_it_starts(
    own: EmbeddedRedis, redis: RedisMux, embedder: BatchingEmbedder
) -> None:
    """END-TO-END (after the merge). The migration runs where the jobs run:
    a server started on the previous version's data converts all of it."""
    from conftest import make_settings, running  # the server: after the merge

    await load(redis, FIXTURE)
    async with running(make_settings(own.url, jobs=True), embedder):
        for _ in range(int(RUNNER_S / 0.05)):
            if LEGACY_INDEX not in await indexes(redis):
                break
            await asyncio.sleep(0.05)
    await assert_migrated(redis, await Migration(redis).vector_type())
