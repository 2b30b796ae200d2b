"""Memory formation's store: the turns that leave a window become episodic
memories, a chunk of `turns_per_memory` turns each, formed exactly once by
event id whatever the repeats and races, through the dedup path of
`CreateMemories`.

The appends go through the server (`wm`, which also makes the memory
index); the formation steps use a `FormationStore` on the same Redis with
the real extractive summarizer and embedding model, as the job will.
"""

from __future__ import annotations

import asyncio
import dataclasses

import numpy as np
import pytest
from prometheus_client import REGISTRY

import incident_conversation
from long_conversation import QUESTIONS, TURNS, facts_found
from memrpc import metrics
from memrpc.api.convert import now_ms
from memrpc.config import Settings
from memrpc.embedding.batcher import BatchingEmbedder
from memrpc.jobs.formation import FormationJob
from memrpc.limits import EPISODIC_TTL_S, Limits
from memrpc.models import Model, Models
from memrpc.namespace_defaults import FormationPolicy, NamespaceDefaults, server_defaults
from memrpc.store import keys
from memrpc.store.formation import Chunk, FormationStore, event_ms
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE
from memrpc.store.memory_index import ORIGINAL_FIELD, model_field
from memrpc.store.redis_mux import RedisMux
from memrpc.summaries.extractive import ExtractiveSummarizer
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import working_memory_pb2 as pb
from projected_model import ProjectedEmbedder

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

TTL_MS = EPISODIC_TTL_S * 1000
PER_MEMORY = 10
# The most formation steps one drain takes: far more than any test needs.
MAX_STEPS = 100


@pytest.fixture
def store(mux: RedisMux, embedder: BatchingEmbedder) -> FormationStore:
    return FormationStore(mux, LongTermStore(mux, dim=embedder.dim))


async def formed(chunk: Chunk, embedder: BatchingEmbedder) -> NewMemory:
    """The memory of a chunk: its extractive summary and that's embedding."""
    text = await ExtractiveSummarizer(embedder).fold("", chunk.turns, max_chars=1000)
    [vector] = await embedder.embed([text], background=True)
    return NewMemory(text=text, embedding=vector)


async def form(store: FormationStore, chunk: Chunk, embedder: BatchingEmbedder):
    memory = await formed(chunk, embedder)
    return await store.form(
        chunk, memory, max_distance=0.2, episodic_ttl_ms=TTL_MS, now_ms=now_ms()
    )


async def drain(store: FormationStore, embedder: BatchingEmbedder, ns: str, thread: str) -> int:
    """Forms until no chunk waits; returns the steps written."""
    written = 0
    for _ in range(MAX_STEPS):
        chunk = await store.next_chunk(ns, thread, turns_per_memory=PER_MEMORY)
        if chunk is None:
            return written
        written += await form(store, chunk, embedder) is not None
    raise AssertionError("the backlog never drained")


async def append(wm, ns: str, thread: str, contents: list[str], user: str = "u1") -> list[str]:
    reply = await wm.AppendTurns(
        pb.AppendTurnsRequest(
            namespace=ns,
            thread_id=thread,
            turns=[pb.TurnInput(role="user", content=c) for c in contents],
            max_window_turns=20,
            user_id=user,
        )
    )
    return list(reply.event_ids)


def sentences(first: int, count: int) -> list[str]:
    """Turns `first` to `first + count` of the long conversation (distinct
    episodes), or past its end distinct notes."""
    return [
        TURNS[i][1] if i < len(TURNS) else f"Note {i}: parcel {i} left depot {i}."
        for i in range(first, first + count)
    ]


async def formation_memories(ltm, ns: str) -> list[lpb.Memory]:
    reply = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ns, page_size=100))
    return [m for m in reply.memories if m.source == lpb.MEMORY_SOURCE_FORMATION]


async def test_sixty_turns_into_a_twenty_turn_window_form_four_memories_of_the_forty_evicted(
    wm, ltm, store: FormationStore, embedder: BatchingEmbedder, ns: str
) -> None:
    ids: list[str] = []
    for i in range(6):
        ids += await append(wm, ns, "t", sentences(10 * i, 10))
        await drain(store, embedder, ns, "t")
    memories = sorted(
        await formation_memories(ltm, ns), key=lambda m: m.start_time.ToMilliseconds()
    )
    assert len(memories) == 4
    assert [e for m in memories for e in m.source_event_ids] == ids[:40]
    for memory in memories:
        assert len(memory.source_event_ids) == PER_MEMORY
        assert (memory.user_id, memory.thread_id) == ("u1", "t")
        assert memory.kind == lpb.MEMORY_KIND_EPISODIC
        assert memory.start_time.ToMilliseconds() == event_ms(memory.source_event_ids[0])
        assert memory.end_time.ToMilliseconds() == event_ms(memory.source_event_ids[-1])
        # The episode happened when it started.
        assert memory.event_time == memory.start_time
        assert memory.expire_time.ToMilliseconds() == memory.create_time.ToMilliseconds() + TTL_MS
        assert 0 < len(memory.text) <= 1000
    assert await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY) is None


async def test_fewer_turns_than_a_chunk_wait(wm, store: FormationStore, ns: str) -> None:
    await append(wm, ns, "t", sentences(0, 29))
    assert await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY) is None
    await append(wm, ns, "t", sentences(29, 1))
    chunk = await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY)
    assert chunk is not None
    assert len(chunk.turns) == PER_MEMORY


async def test_a_chunk_is_formed_once_whatever_repeats_or_races(
    wm, ltm, store: FormationStore, embedder: BatchingEmbedder, ns: str
) -> None:
    await append(wm, ns, "t", sentences(0, 40))
    chunk = await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY)
    assert chunk is not None
    # Two concurrent formers of the same chunk: one writes.
    outcomes = await asyncio.gather(*(form(store, chunk, embedder) for _ in range(2)))
    assert sorted(formed is not None for formed in outcomes) == [False, True]
    # A redelivery after it: the chunk read before is stale, nothing written.
    assert await form(store, chunk, embedder) is None
    again = await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY)
    assert again is not None
    assert again.turns[0].event_id != chunk.turns[0].event_id
    await drain(store, embedder, ns, "t")
    memories = await formation_memories(ltm, ns)
    event_ids = [e for m in memories for e in m.source_event_ids]
    assert len(event_ids) == len(set(event_ids)) == 20


async def test_a_repeated_episode_grows_the_existing_memorys_hit_count(
    wm, ltm, store: FormationStore, embedder: BatchingEmbedder, ns: str
) -> None:
    for thread in ("a", "b"):
        await append(wm, ns, thread, sentences(0, 30))
    written = []
    for thread in ("a", "b"):
        chunk = await store.next_chunk(ns, thread, turns_per_memory=PER_MEMORY)
        assert chunk is not None
        written.append(await form(store, chunk, embedder))
    first, repeated = written
    assert first is not None
    assert not first.duplicate
    assert repeated is not None
    assert repeated.duplicate
    assert (repeated.memory.id, repeated.memory.hit_count) == (first.memory.id, 2)
    [memory] = await formation_memories(ltm, ns)
    assert (memory.id, memory.hit_count, memory.thread_id) == (first.memory.id, 2, "a")
    # The second thread's turns count as formed all the same.
    assert await store.next_chunk(ns, "b", turns_per_memory=PER_MEMORY) is None


async def test_a_session_of_a_deleted_thread_forms_only_its_own_turns(
    wm, ltm, store: FormationStore, embedder: BatchingEmbedder, ns: str
) -> None:
    await append(wm, ns, "t", sentences(0, 25))
    await wm.DeleteSession(pb.DeleteSessionRequest(namespace=ns, thread_id="t"))
    ids = await append(wm, ns, "t", sentences(100, 30))
    assert await drain(store, embedder, ns, "t") == 1
    [memory] = await formation_memories(ltm, ns)
    assert list(memory.source_event_ids) == ids[:PER_MEMORY]


# -- The job ---------------------------------------------------------------------


class Policy:
    """A namespace's defaults with the formation policy a test sets."""

    def __init__(self, formation: FormationPolicy) -> None:
        base = server_defaults(Limits.from_settings(Settings()))
        self._defaults = dataclasses.replace(base, formation=formation)

    async def defaults(self, ns: str) -> NamespaceDefaults:
        return self._defaults


ON = FormationPolicy(enabled=True, turns_per_memory=PER_MEMORY, max_chars=1000, extract_facts=False)


def job(mux: RedisMux, embedder: BatchingEmbedder, policy: FormationPolicy) -> FormationJob:
    summarizer = ExtractiveSummarizer(embedder)
    store = FormationStore(mux, LongTermStore(mux, dim=embedder.dim))
    models = Models(mux, Model(embedder.background(), ORIGINAL_FIELD))
    return FormationJob(store, summarizer, models, Policy(policy))


async def conversation(wm, ns: str, thread: str, turns: list[tuple[str, str]] = TURNS) -> list[str]:
    """A 60-turn conversation (by default the long one) into a 20-turn
    window, in appends of 6."""
    ids: list[str] = []
    for first in range(0, len(turns), 6):
        ids += await append(wm, ns, thread, [content for _, content in turns[first : first + 6]])
    return ids


async def recalled(wm, ns: str, mode: lpb.RecallMode.ValueType) -> list[str]:
    """The planted facts whose natural question recalls, by `GetContext` at
    the default distance in `mode`, a memory holding the fact among its
    first three."""
    found = []
    for fact, question in QUESTIONS.items():
        request = pb.GetContextRequest(
            namespace=ns, thread_id="t", text=question, limit=3, mode=mode
        )
        reply = await wm.GetContext(request)
        texts = " ".join(match.memory.text for match in reply.matches)
        found += [hit for hit in facts_found(texts) if hit == fact]
    return found


async def test_the_job_forms_each_chunk_once_whatever_its_runs(
    wm, ltm, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    ids = await conversation(wm, ns, "t")
    formation = job(mux, embedder, ON)
    # Two concurrent runs, then a repeated delivery.
    await asyncio.gather(formation.run(ns, "t"), formation.run(ns, "t"))
    await formation.run(ns, "t")
    memories = await formation_memories(ltm, ns)
    assert len(memories) == 4
    assert sorted(e for m in memories for e in m.source_event_ids) == sorted(ids[:40])


async def test_hybrid_recall_finds_the_facts_in_formed_memories_among_others(
    wm, ltm, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    # The same user's second conversation, formed too: 4 memories of an
    # incident beside the 4 of the wedding, and 20 turns of each left in
    # their windows.
    await conversation(wm, ns, "t")
    await conversation(wm, ns, "incident", incident_conversation.TURNS)
    formation = job(mux, embedder, ON)
    await formation.run(ns, "t")
    await formation.run(ns, "incident")
    assert len(await formation_memories(ltm, ns)) == 8
    by_vector = await recalled(wm, ns, lpb.RECALL_MODE_VECTOR)
    hybrid = await recalled(wm, ns, lpb.RECALL_MODE_HYBRID)
    print(f"facts recalled: {len(by_vector)}/10 by vector, {len(hybrid)}/10 hybrid")
    assert len(hybrid) >= 8, hybrid


async def test_a_disabled_policy_forms_nothing_until_enabled_and_each_memory_is_counted(
    wm, ltm, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    def created() -> float:
        found = REGISTRY.get_sample_value("memrpc_formed_memories_total", {"outcome": "created"})
        return found or 0.0

    await conversation(wm, ns, "t")
    await job(mux, embedder, dataclasses.replace(ON, enabled=False)).run(ns, "t")
    assert await formation_memories(ltm, ns) == []
    before = created()
    metrics.enable()
    try:
        await job(mux, embedder, ON).run(ns, "t")
    finally:
        metrics.disable()
    assert len(await formation_memories(ltm, ns)) == 4
    assert created() - before == 4


async def test_turns_trimmed_from_the_log_are_skipped_and_the_rest_formed(
    wm, ltm, events, *, store: FormationStore, embedder: BatchingEmbedder, ns: str
) -> None:
    ids = await append(wm, ns, "t", sentences(0, 45))  # 25 left the window
    # The oldest 7 trimmed: 18 readable, one chunk formed with the 7 skipped.
    await events.TrimEvents(ev.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[7]))
    chunk = await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY)
    assert chunk is not None
    assert ([t.event_id for t in chunk.turns], chunk.skipped) == (ids[7:17], 7)
    assert await form(store, chunk, embedder) is not None
    # 13 wait once 5 more left, the oldest 5 trimmed: fewer than a chunk are
    # readable, so a skip-only step counts the 5 and forms nothing.
    await events.TrimEvents(ev.TrimEventsRequest(namespace=ns, thread_id="t", min_event_id=ids[22]))
    ids += await append(wm, ns, "t", sentences(45, 5))
    chunk = await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY)
    assert chunk is not None
    assert (chunk.turns, chunk.skipped) == ([], 5)
    assert await store.skip(chunk)
    assert await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY) is None
    # Two more leave: the 8 kept and they make a chunk.
    ids += await append(wm, ns, "t", sentences(50, 2))
    assert await drain(store, embedder, ns, "t") == 1
    memories = await formation_memories(ltm, ns)
    formed = sorted((list(m.source_event_ids) for m in memories), key=lambda e: ids.index(e[0]))
    assert formed == [ids[7:17], ids[22:32]]


async def test_during_a_move_formed_memories_get_both_models_vectors(
    wm, ltm, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    # A move to another model (not recorded on the shared Redis: the
    # namespace has not switched, so it uses the first model, and its
    # writes also store the other's vectors).
    projected = ProjectedEmbedder(embedder)
    new = model_field(projected.identity.fingerprint)
    models = Models(
        mux,
        Model(embedder.background(), ORIGINAL_FIELD),
        Model(projected.background(), new),
    )
    store = FormationStore(mux, LongTermStore(mux, dim=embedder.dim))
    formation = FormationJob(store, ExtractiveSummarizer(embedder), models, Policy(ON))
    await conversation(wm, ns, "t")
    await formation.run(ns, "t")
    memories = await formation_memories(ltm, ns)
    assert len(memories) == 4
    vectors = await projected.embed([memory.text for memory in memories])
    for memory, vector in zip(memories, vectors, strict=True):
        old, moved = await mux.execute("HMGET", keys.memory(ns, memory.id), "v", new.hash)
        assert old is not None
        stored = np.frombuffer(moved, DEFAULT_VECTOR_TYPE.dtype).astype(np.float32)
        assert float(np.dot(stored, vector)) > 0.999
