"""The consolidation job: near duplicates of a scope merge into the older
(or the pinned) one, with summed counts and the merged ids, recorded as
events of the namespace's `memrpc.memories` thread; a language model's
contradictions mark older facts superseded.

Memories are written with a `LongTermStore` on the shared Redis (dedup off,
so that near duplicates slip past it) and the real embedding model; the
job runs through its `run(ns, now_ms)`; events are read with the
`ListEvents` RPC of the session's server.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import pytest
from google.protobuf.json_format import MessageToDict

from llm_standin import StandIn, json_reply, malformed
from memrpc.api.convert import now_ms
from memrpc.config import Settings
from memrpc.embedding.batcher import BatchingEmbedder
from memrpc.jobs.consolidation import ConsolidationJob, merge_order
from memrpc.jobs.runtime import process_jobs
from memrpc.limits import CONSOLIDATION_BATCH, Limits
from memrpc.llm.jobs_model import JobsModel
from memrpc.llm.openai import OpenAICompatibleModel
from memrpc.models import Model, Models
from memrpc.namespace_defaults import (
    ConsolidationPolicy,
    LanguageModelPolicy,
    NamespaceDefaults,
    server_defaults,
)
from memrpc.store import keys, memory_document
from memrpc.store.consolidation import ConsolidationStore, Walk
from memrpc.store.events import EventStore, Retention
from memrpc.store.long_term import LongTermStore, Memory, MemoryPatch, NewMemory, Source
from memrpc.store.memory_changes import CHANGES_THREAD, Change
from memrpc.store.memory_index import ORIGINAL_FIELD, Kind, MemoryFilter
from memrpc.store.memory_listing import Order, place
from memrpc.store.model_budget import ModelBudget
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as lpb
from test_faults import eventually, serving

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

RETENTION = Retention(10_000, 100_000)
# Runs enough to finish any pass of these tests many times over.
MAX_RUNS = 50
BLUE = "The user's favourite colour is blue."
BLUE_AGAIN = "The user's favourite color is blue."
NURSE = "The user works as a night nurse at the hospital in Oslo."
BERGEN = "The user lives in Bergen."
TROMSO = "The user has moved to Tromsø and lives there now."


class Defaults:
    """A namespace's defaults with the policies a test sets."""

    def __init__(self, *, enabled: bool = True, model: bool = False) -> None:
        base = server_defaults(Limits.from_settings(Settings()))
        self._defaults = dataclasses.replace(
            base,
            consolidation=ConsolidationPolicy(enabled=enabled, max_distance=0.25, interval_s=60),
            language_model=LanguageModelPolicy(enabled=model, max_calls_per_minute=60),
        )

    async def defaults(self, ns: str) -> NamespaceDefaults:
        return self._defaults


@pytest.fixture
async def long_term(mux: RedisMux, embedder: BatchingEmbedder) -> LongTermStore:
    store = LongTermStore(mux, dim=embedder.dim)
    await store.ensure_index()
    return store


@pytest.fixture
def store(mux: RedisMux, long_term: LongTermStore) -> ConsolidationStore:
    return ConsolidationStore(mux, long_term, EventStore(mux, RETENTION))


async def write(
    long_term: LongTermStore,
    embedder: BatchingEmbedder,
    ns: str,
    text: str,
    *,
    user: str = "u1",
    thread: str = "",
    kind: Kind = Kind.SEMANTIC,
    pinned: bool = False,
) -> Memory:
    """Creates one memory, dedup off (but for the same text), in a
    millisecond of its own: ids order memories by creation only across
    milliseconds (within one, by their random part)."""
    [vector] = await embedder.embed([text])
    item = NewMemory(
        text=text,
        embedding=vector,
        user_id=user,
        thread_id=thread,
        kind=kind,
        ttl_ms=0,
        pinned=pinned,
    )
    [created] = await long_term.create(ns, [item], max_distance=0)
    assert created.created
    assert created.memory is not None
    for _ in range(1000):
        if now_ms() > created.memory.create_ms:
            return created.memory
        await asyncio.sleep(0.001)
    raise AssertionError("the clock stood still")


async def drain(job: ConsolidationJob, ns: str) -> int:
    """Runs the job until its pass is done; returns the runs."""
    for runs in range(1, MAX_RUNS + 1):
        if not await job.run(ns, now_ms()):
            return runs
    raise AssertionError("the pass never finished")


async def memories(
    long_term: LongTermStore, ns: str, *, superseded: bool = False
) -> dict[str, Memory]:
    """The live memories of `ns` by id (with the superseded ones, or not)."""
    flt = MemoryFilter(include_superseded=superseded)
    listed = await long_term.list_page(ns, flt, Order.NEWEST, None, count=1000)
    return {memory.id: memory for memory in listed.memories}


async def changes(events, ns: str) -> list[tuple[str, dict[str, object]]]:
    """The events of the namespace's changes thread, as (type, payload)."""
    reply = await events.ListEvents(
        ev.ListEventsRequest(namespace=ns, thread_id=CHANGES_THREAD, page_size=1000)
    )
    return [(event.type, MessageToDict(event.json)) for event in reply.events]


async def test_near_duplicates_merge_into_the_older(long_term, store, embedder, ns, events):
    first = await write(long_term, embedder, ns, BLUE)
    second = await write(long_term, embedder, ns, BLUE_AGAIN)
    apart = await write(long_term, embedder, ns, NURSE)
    job = ConsolidationJob(store, Defaults())
    assert await drain(job, ns) == 1
    left = await memories(long_term, ns)
    assert set(left) == {first.id, apart.id}
    survivor = left[first.id]
    assert survivor.hit_count == 2
    assert survivor.merged_ids == (second.id,)
    assert survivor.version == first.version
    assert survivor.update_ms == first.update_ms
    assert left[apart.id] == apart
    [(kind, payload)] = await changes(events, ns)
    assert kind == Change.MERGED
    distance = payload.pop("distance")
    assert 0 < distance <= 0.25
    assert payload == {
        "memory_id": first.id,
        "merged_memory_id": second.id,
        "user_id": "u1",
        "kind": "semantic",
        "merged_text": BLUE_AGAIN,
        "hit_count": 2,
    }
    # A second pass finds nothing more to merge.
    assert await drain(job, ns) == 1
    assert len(await changes(events, ns)) == 1


async def test_chains_of_merges_keep_every_id_and_count(long_term, store, embedder, ns):
    texts = [BLUE, BLUE_AGAIN, "The user's favourite colour is the colour blue."]
    written = [await write(long_term, embedder, ns, text) for text in texts]
    # The newest already holds a merge of its own: its ids follow it.
    await ConsolidationJob(store, Defaults()).run(ns, now_ms())
    [survivor] = (await memories(long_term, ns)).values()
    assert survivor.id == written[0].id
    assert survivor.hit_count == 3
    assert set(survivor.merged_ids) == {written[1].id, written[2].id}


async def test_a_pinned_memory_is_never_merged_away(long_term, store, embedder, ns):
    older = await write(long_term, embedder, ns, BLUE)
    pinned = await write(long_term, embedder, ns, BLUE_AGAIN, pinned=True)
    await drain(ConsolidationJob(store, Defaults()), ns)
    [survivor] = (await memories(long_term, ns)).values()
    assert survivor.id == pinned.id
    assert survivor.pinned
    assert survivor.merged_ids == (older.id,)
    assert survivor.hit_count == 2


async def test_two_pinned_memories_stay_apart(long_term, store, embedder, ns):
    await write(long_term, embedder, ns, BLUE, pinned=True)
    await write(long_term, embedder, ns, BLUE_AGAIN, pinned=True)
    await drain(ConsolidationJob(store, Defaults()), ns)
    assert len(await memories(long_term, ns)) == 2


def test_merge_order():
    def memory(id_: str, pinned: bool) -> Memory:
        return Memory(id_, "n", "", Kind.SEMANTIC, "", (), "t", {}, 0, 0, 0, 1, 1,
                      Source.CLIENT, (), 0, 0,
                      pinned=pinned)  # fmt: skip

    old, new = memory("01A", False), memory("01B", False)
    assert merge_order(new, old) == (old, new)
    pinned_new = memory("01B", True)
    assert merge_order(old, pinned_new) == (pinned_new, old)
    pinned_old = memory("01A", True)
    assert merge_order(pinned_old, new) == (pinned_old, new)
    assert merge_order(pinned_old, pinned_new) is None


async def test_other_scopes_users_kinds_and_namespaces_are_untouched(
    long_term, store, embedder, ns
):
    other_ns = ns + "b"
    kept = [
        await write(long_term, embedder, ns, BLUE, user="u1"),
        await write(long_term, embedder, ns, BLUE_AGAIN, user="u2"),
        await write(long_term, embedder, ns, BLUE_AGAIN, user="u1", kind=Kind.EPISODIC),
        await write(long_term, embedder, other_ns, BLUE_AGAIN, user="u1"),
    ]
    job = ConsolidationJob(store, Defaults())
    await drain(job, ns)
    left = await memories(long_term, ns) | await memories(long_term, other_ns)
    assert {memory.id: memory for memory in kept} == left


async def test_a_disabled_policy_merges_nothing(long_term, store, embedder, ns):
    await write(long_term, embedder, ns, BLUE)
    await write(long_term, embedder, ns, BLUE_AGAIN)
    job = ConsolidationJob(store, Defaults(enabled=False))
    assert await job.interval_s(ns) is None
    assert not await job.run(ns, now_ms())
    assert len(await memories(long_term, ns)) == 2
    assert await ConsolidationJob(store, Defaults()).interval_s(ns) == 60


async def test_a_memory_changed_since_read_is_left_for_the_next_run(long_term, store, embedder, ns):
    first = await write(long_term, embedder, ns, BLUE)
    second = await write(long_term, embedder, ns, BLUE_AGAIN)
    updated = await long_term.update(
        ns, second.id, MemoryPatch(metadata={"k": "v"}), max_distance=0
    )
    assert updated is not None
    assert updated.version == 2
    # `second` as read before its update: the merge writes nothing.
    assert await store.merge(ns, first, second, 0.1) is None
    assert set(await memories(long_term, ns)) == {first.id, second.id}
    # The next run reads it as it is now, and merges.
    await drain(ConsolidationJob(store, Defaults()), ns)
    [survivor] = (await memories(long_term, ns)).values()
    assert survivor.merged_ids == (second.id,)


async def test_a_merge_sums_the_counts_and_keeps_the_latest_access(
    mux, long_term, store, embedder, ns
):
    survivor = await write(long_term, embedder, ns, BLUE)
    loser = await write(long_term, embedder, ns, BLUE_AGAIN)
    # As the searches' access recorder leaves them (no version change).
    for memory, count, last, recalled in ((survivor, 3, 1000, 5000), (loser, 4, 2000, 4000)):
        key = keys.memory(ns, memory.id)
        doc = memory_document
        await mux.execute(
            "HSET", key, doc.ACCESS_COUNT, count, doc.LAST_ACCESS_MS, last,
            doc.RECALLED_MS, recalled,
        )  # fmt: skip
    assert await store.merge(ns, survivor, loser, 0.1) == 2
    merged = await long_term.get(ns, survivor.id)
    assert merged is not None
    assert (merged.hit_count, merged.access_count, merged.last_access_ms) == (2, 7, 2000)
    recalled = await mux.execute("HGET", keys.memory(ns, survivor.id), memory_document.RECALLED_MS)
    assert recalled == b"5000"
    assert await long_term.get(ns, loser.id) is None


async def test_a_merge_refuses_a_pinned_loser_and_superseded_memories(
    long_term, store, embedder, ns
):
    first = await write(long_term, embedder, ns, BLUE)
    pinned = await write(long_term, embedder, ns, BLUE_AGAIN, pinned=True)
    # The job never asks this; the script checks it all the same.
    assert await store.merge(ns, first, pinned, 0.1) is None
    other = await write(long_term, embedder, ns, "The user's favourite colour is the colour blue.")
    assert await store.supersede(ns, first, other)
    assert await store.merge(ns, first, other, 0.1) is None
    assert await store.merge(ns, other, first, 0.1) is None
    # Superseded once only.
    assert not await store.supersede(ns, first, other)
    assert set(await memories(long_term, ns, superseded=True)) == {first.id, pinned.id, other.id}


async def test_bounded_runs_progress_to_the_end_of_the_pass(long_term, store, embedder, ns):
    # The pair is the oldest: a pass reaches it after a first run of others
    # (each of a user of its own, so that none merges).
    first = await write(long_term, embedder, ns, BLUE)
    second = await write(long_term, embedder, ns, BLUE_AGAIN)
    others = [
        await write(long_term, embedder, ns, f"Note {i}.", user=f"other{i}")
        for i in range(CONSOLIDATION_BATCH + 5)
    ]
    job = ConsolidationJob(store, Defaults())
    assert await job.run(ns, now_ms())
    walk = await store.walk(ns)
    assert walk.top == place(others[-1].id, others[-1].create_ms)
    last = others[-CONSOLIDATION_BATCH]
    assert walk.after == place(last.id, last.create_ms)
    assert len(await memories(long_term, ns)) == len(others) + 2
    assert await drain(job, ns) == 1
    # A new pass next, with nothing asked of a model (none given).
    assert await store.walk(ns) == Walk()
    left = await memories(long_term, ns)
    assert set(left) == {first.id, *(memory.id for memory in others)}
    assert left[first.id].merged_ids == (second.id,)


# -- With a language model (the client against the stand-in server) ----------------


@pytest.fixture
async def model(mux: RedisMux, llm_standin: StandIn) -> AsyncIterator[JobsModel]:
    """The jobs' model: the OpenAI-compatible client on the stand-in, one
    attempt per call, its failures reported on the changes thread."""
    client = OpenAICompatibleModel(
        url=llm_standin.url,
        model="standin",
        key=None,
        timeout_s=10.0,
        max_attempts=1,
        budget=ModelBudget(mux),
        defaults=Defaults(model=True),
    )
    yield JobsModel(client, EventStore(mux, RETENTION))
    await client.aclose()


def asked(standin: StandIn) -> list[dict[str, object]]:
    """What each call to the stand-in asked: the newer fact and the older ones."""
    return [request.input for request in standin.requests]


async def test_a_contradicted_older_fact_is_superseded(
    *, long_term, store, embedder, ns, events, model, llm_standin
):
    await write(long_term, embedder, ns, NURSE)
    older = await write(long_term, embedder, ns, BERGEN)
    newer = await write(long_term, embedder, ns, TROMSO)
    llm_standin.script(json_reply({"contradicted": [0]}))
    job = ConsolidationJob(store, Defaults(model=True), model)
    assert await drain(job, ns) == 1
    # Asked once, about the newer fact and the older related one (not the
    # unrelated nurse, farther than the related distance).
    assert asked(llm_standin) == [{"newer": TROMSO, "older": [BERGEN]}]
    assert older.id not in await memories(long_term, ns)
    marked = (await memories(long_term, ns, superseded=True))[older.id]
    assert marked.superseded_by == newer.id
    assert dataclasses.replace(marked, superseded_by="") == older
    assert await changes(events, ns) == [
        (
            Change.SUPERSEDED,
            {
                "memory_id": older.id,
                "superseded_by_memory_id": newer.id,
                "user_id": "u1",
                "text": BERGEN,
                "superseding_text": TROMSO,
            },
        )
    ]
    # A later pass asks nothing again.
    assert await store.walk(ns) == Walk(checked=place(newer.id, newer.create_ms))
    assert await drain(job, ns) == 1
    assert len(llm_standin.requests) == 1


async def test_a_failed_call_is_reported_and_asked_again_next_pass(
    *, long_term, store, embedder, ns, events, model, llm_standin
):
    older = await write(long_term, embedder, ns, BERGEN)
    newer = await write(long_term, embedder, ns, TROMSO, thread="moving")
    llm_standin.script(malformed(), json_reply({"contradicted": [0]}))
    job = ConsolidationJob(store, Defaults(model=True), model)
    assert await drain(job, ns) == 1
    assert set(await memories(long_term, ns)) == {older.id, newer.id}
    assert await store.walk(ns) == Walk()
    [(kind, payload)] = await changes(events, ns)
    assert kind == Change.LANGUAGE_MODEL_FAILED
    assert payload.pop("error")
    assert payload == {
        "job": "consolidation",
        "thread_id": "moving",
        "reason": "malformed",
        "attempts": 1.0,
    }
    # The next pass asks again, and supersedes.
    assert await drain(job, ns) == 1
    assert len(llm_standin.requests) == 2
    assert set(await memories(long_term, ns)) == {newer.id}
    assert [kind for kind, _ in await changes(events, ns)][-1] == Change.SUPERSEDED


async def test_the_model_is_asked_about_semantic_facts_once_the_namespace_allows(
    *, long_term, store, embedder, ns, model, llm_standin
):
    await write(long_term, embedder, ns, BERGEN)
    await write(long_term, embedder, ns, TROMSO, kind=Kind.EPISODIC)
    await write(long_term, embedder, ns, BERGEN, kind=Kind.EPISODIC)
    await write(long_term, embedder, ns, TROMSO)
    # Semantic facts, but the namespace's policy is off.
    await drain(ConsolidationJob(store, Defaults(model=False), model), ns)
    assert llm_standin.requests == []
    # Allowed: a later pass asks, about the semantic facts only (the
    # stand-in's rules find no contradiction: more than a last word differs).
    await drain(ConsolidationJob(store, Defaults(model=True), model), ns)
    assert asked(llm_standin) == [{"newer": TROMSO, "older": [BERGEN]}]
    assert len(await memories(long_term, ns)) == 4


def test_every_process_runs_the_consolidation_job(mux: RedisMux, embedder: BatchingEmbedder):
    jobs = process_jobs(mux, Models(mux, Model(embedder, ORIGINAL_FIELD)), Defaults(), RETENTION)
    assert "consolidation" in [periodic.name for periodic in jobs.periodic]


# -- In a server ----------------------------------------------------------------------


async def test_a_server_consolidates_its_namespaces(own_redis, embedder, ns):
    """A server with its jobs merges the near duplicates written through
    CreateMemories with dedup off (its periodic runner, in a namespace of
    memories only, with the default policy), and ListEvents reads the
    merge."""
    async with serving(own_redis.url, embedder, jobs=True) as (_, channel):
        memories_stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        written = []
        for text in (BLUE, BLUE_AGAIN, NURSE):
            reply = await memories_stub.CreateMemories(
                lpb.CreateMemoriesRequest(
                    namespace=ns,
                    memories=[lpb.MemoryInput(text=text, user_id="u1")],
                    dedup_max_distance=0,
                )
            )
            written.append(reply.results[0].memory)

        async def listed() -> list[lpb.Memory]:
            reply = await memories_stub.ListMemories(lpb.ListMemoriesRequest(namespace=ns))
            return list(reply.memories)

        async def merged() -> bool:
            return len(await listed()) == 2

        await eventually(merged, "the near duplicates merged")
        by_text = {memory.text: memory for memory in await listed()}
        event_stub = event_log_pb2_grpc.EventLogStub(channel)
        [(kind, payload)] = await changes(event_stub, ns)
    survivor = by_text.get(BLUE) or by_text[BLUE_AGAIN]
    loser = next(m for m in written[:2] if m.id != survivor.id)
    assert survivor.hit_count == 2
    assert list(survivor.merged_memory_ids) == [loser.id]
    assert by_text[NURSE].hit_count == 1
    assert kind == Change.MERGED
    assert payload["memory_id"] == survivor.id
    assert payload["merged_memory_id"] == loser.id
