"""The jobs with a language model, against the scripted stand-in for a model
(tests/llm_standin.py; its rules take the user's first-person sentences as
facts and a turn's first sentence into a summary):

- formation also writes the facts of each chunk as semantic memories
  (`MEMORY_SOURCE_EXTRACTION`) in the chunk's one atomic write: a repeated
  fact grows the existing memory's hit count, a redelivery forms nothing
  again, a chunk whose write loses a race writes no fact either;
- a call that gives up (malformed output every attempt, a spent budget)
  forms the episodic memory alone, and is counted and recorded as a
  `memrpc.language_model_failed` event in the thread `memrpc.memories`;
- without `extract_facts` or with the model off for the namespace, no call;
- summaries are the model's (`summarizer` its name), and extractive for a
  fold whose call fails;
- a server with `--llm-url` and `--jobs` does all that on its own.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from google.protobuf import json_format
from prometheus_client import REGISTRY

from llm_standin import json_reply, malformed, server_error
from memrpc import metrics
from memrpc.api.convert import now_ms
from memrpc.config import Settings
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.jobs.fold import FoldJob
from memrpc.jobs.formation import FormationJob
from memrpc.limits import Limits
from memrpc.llm.jobs_model import JobsModel
from memrpc.llm.openai import OpenAICompatibleModel
from memrpc.models import Model, Models
from memrpc.namespace_defaults import LanguageModelPolicy, NamespaceDefaults, server_defaults
from memrpc.store.events import EventStore, Retention
from memrpc.store.formation import FormationStore
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_changes import CHANGES_THREAD, Change
from memrpc.store.memory_index import ORIGINAL_FIELD
from memrpc.store.redis_mux import RedisMux
from memrpc.store.summaries import SummaryStore
from memrpc.summaries.extractive import ExtractiveSummarizer
from memrpc.v1 import event_log_pb2 as ev
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import long_term_memory_pb2_grpc, working_memory_pb2_grpc
from memrpc.v1 import working_memory_pb2 as pb
from support import FixedDefaults
from test_faults import eventually, serving
from test_formation import append

MODEL = "standin-1"
PER_MEMORY = 10
BASE = server_defaults(Limits.from_settings(Settings()))
DEFAULTS = dataclasses.replace(
    BASE,
    formation=dataclasses.replace(BASE.formation, turns_per_memory=PER_MEMORY),
    summaries=dataclasses.replace(BASE.summaries, max_chars=1000),
)
# The facts a chunk of `chunk(i)` states, in the user's words.
SISTER = "My sister Ingrid flies gliders."
FLAT = "I moved into a flat on Elm Street."
COMPOSER = "My favourite composer is Sibelius."


# What the notes of each chunk are about: far apart, so that no two
# chunks' episodes are duplicates.
TOPICS = [
    "the parcel left the depot on time",
    "the choir rehearsed a new hymn in the chapel",
    "rain flooded the underpass near the stadium",
    "the compiler release fixed a linker crash",
    "a heron stood in the shallow end of the lake",
]


def chunk(i: int, facts: tuple[str, ...] = (SISTER, FLAT)) -> list[str]:
    """Ten turns: `facts`, then notes about `TOPICS[i]`."""
    notes = [f"Note {n}: {TOPICS[i]}." for n in range(10)]
    return [*facts, *notes][:10]


def with_model(defaults: NamespaceDefaults, *, enabled: bool = True, per_minute: int = 60):
    return dataclasses.replace(defaults, language_model=LanguageModelPolicy(enabled, per_minute))


@pytest.fixture
def model(llm_model) -> OpenAICompatibleModel:
    """The client of the stand-in for the jobs' defaults."""
    return llm_model(model=MODEL, timeout_s=0.5, defaults=FixedDefaults(DEFAULTS))


def jobs_model(model: OpenAICompatibleModel, mux: RedisMux) -> JobsModel:
    return JobsModel(model, EventStore(mux, Retention(log_max_len=1000, feed_max_len=10_000)))


def formation(
    mux: RedisMux, embedder: BatchingEmbedder, model: JobsModel, defaults: NamespaceDefaults
) -> FormationJob:
    summarizer = ExtractiveSummarizer(embedder.background())
    return FormationJob(
        FormationStore(mux, LongTermStore(mux, dim=embedder.dim)),
        summarizer,
        Models(mux, Model(embedder.background(), ORIGINAL_FIELD)),
        FixedDefaults(defaults),
        model,
    )


async def memories(ltm, ns: str, source: int) -> list[lpb.Memory]:
    reply = await ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ns, page_size=100))
    return [m for m in reply.memories if m.source == source]


async def failures(events, ns: str) -> list[dict[str, object]]:
    """The payloads of the `memrpc.language_model_failed` events."""
    reply = await events.ListEvents(
        ev.ListEventsRequest(namespace=ns, thread_id=CHANGES_THREAD, page_size=100)
    )
    return [
        json_format.MessageToDict(event.json)
        for event in reply.events
        if event.type == Change.LANGUAGE_MODEL_FAILED
    ]


async def test_formation_extracts_facts_as_semantic_memories_and_a_repeat_is_a_hit(
    wm, ltm, events, *, mux: RedisMux, embedder: BatchingEmbedder, model, llm_standin, ns: str
) -> None:
    job = formation(mux, embedder, jobs_model(model, mux), DEFAULTS)
    # The first 10 leave the window; the next 10 say one fact again, and a new one.
    ids = await append(wm, ns, "t", chunk(0) + chunk(1, (SISTER, COMPOSER)) + chunk(2))
    await job.run(ns, "t")
    [episode] = await memories(ltm, ns, lpb.MEMORY_SOURCE_FORMATION)
    facts = await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION)
    assert sorted(f.text for f in facts) == sorted([SISTER, FLAT])
    for fact in facts:
        assert fact.kind == lpb.MEMORY_KIND_SEMANTIC
        assert (fact.user_id, fact.thread_id, fact.hit_count) == ("u1", "t", 1)
        assert list(fact.source_event_ids) == ids[:PER_MEMORY]
        assert fact.start_time == episode.start_time
        assert fact.end_time == episode.end_time
        assert not fact.HasField("expire_time")  # a semantic memory lives on
    assert list(episode.source_event_ids) == ids[:PER_MEMORY]
    # A redelivery forms nothing again, and asks the model nothing.
    await job.run(ns, "t")
    assert len(llm_standin.requests) == 1
    # They leave the window.
    await append(wm, ns, "t", chunk(3))
    await job.run(ns, "t")
    facts = await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION)
    assert sorted((f.text, f.hit_count) for f in facts) == sorted(
        [(SISTER, 2), (FLAT, 1), (COMPOSER, 1)]
    )
    assert len(await memories(ltm, ns, lpb.MEMORY_SOURCE_FORMATION)) == 2
    assert await failures(events, ns) == []


async def test_a_chunk_whose_write_loses_a_race_writes_no_fact(
    wm, ltm, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    store = FormationStore(mux, LongTermStore(mux, dim=embedder.dim))
    await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2))
    read = await store.next_chunk(ns, "t", turns_per_memory=PER_MEMORY)
    assert read is not None
    texts = ["The episode.", SISTER, FLAT]
    vectors = await embedder.embed(texts, background=True)
    episode, *facts = [NewMemory(text=t, embedding=v) for t, v in zip(texts, vectors, strict=True)]

    async def form() -> object:
        return await store.form(
            read, episode, facts=facts, max_distance=0.2, episodic_ttl_ms=60_000, now_ms=now_ms()
        )

    outcomes = await asyncio.gather(form(), form())
    assert sorted(o is not None for o in outcomes) == [False, True]
    assert await form() is None
    assert len(await memories(ltm, ns, lpb.MEMORY_SOURCE_FORMATION)) == 1
    assert len(await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION)) == 2


async def test_malformed_output_forms_the_episode_alone_and_is_reported(
    wm, ltm, events, *, mux: RedisMux, embedder: BatchingEmbedder, model, llm_standin, ns: str
) -> None:
    llm_standin.script(malformed(), json_reply({"facts": [1]}), malformed())
    job = formation(mux, embedder, jobs_model(model, mux), DEFAULTS)
    await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2))
    labels = {"job_name": "formation", "outcome": "malformed"}
    before = REGISTRY.get_sample_value("memrpc_llm_calls_total", labels) or 0.0
    metrics.enable()
    try:
        await job.run(ns, "t")
    finally:
        metrics.disable()
    assert REGISTRY.get_sample_value("memrpc_llm_calls_total", labels) == before + 1
    assert len(await memories(ltm, ns, lpb.MEMORY_SOURCE_FORMATION)) == 1
    assert await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION) == []
    [failure] = await failures(events, ns)
    error = failure.pop("error")
    assert failure == {"job": "formation", "thread_id": "t", "reason": "malformed", "attempts": 3}
    assert "not JSON" in str(error) or "schema" in str(error)
    assert len(llm_standin.requests) == 3


async def test_a_spent_budget_forms_the_episode_alone_without_a_call(
    wm, ltm, events, *, mux: RedisMux, embedder: BatchingEmbedder, llm_model, llm_standin, ns: str
) -> None:
    one = with_model(DEFAULTS, per_minute=1)
    client = llm_model(model=MODEL, defaults=FixedDefaults(one))
    job = formation(mux, embedder, jobs_model(client, mux), one)
    await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2) + chunk(3))  # two chunks
    await job.run(ns, "t")
    assert len(await memories(ltm, ns, lpb.MEMORY_SOURCE_FORMATION)) == 2
    # The first chunk's facts; the second's (the same) not asked for.
    facts = await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION)
    assert sorted((f.text, f.hit_count) for f in facts) == [(FLAT, 1), (SISTER, 1)]
    assert len(llm_standin.requests) == 1
    [failure] = await failures(events, ns)
    assert (failure["reason"], failure["attempts"]) == ("rate_limited", 0)


@pytest.mark.parametrize("turned_off", ["extract_facts", "language_model"])
async def test_no_call_when_the_namespace_turns_extraction_or_the_model_off(
    wm, ltm, *, mux: RedisMux, embedder: BatchingEmbedder, model, llm_standin, ns: str, turned_off
) -> None:
    defaults = (
        dataclasses.replace(
            DEFAULTS, formation=dataclasses.replace(DEFAULTS.formation, extract_facts=False)
        )
        if turned_off == "extract_facts"
        else with_model(DEFAULTS, enabled=False)
    )
    await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2))
    await formation(mux, embedder, jobs_model(model, mux), defaults).run(ns, "t")
    assert len(await memories(ltm, ns, lpb.MEMORY_SOURCE_FORMATION)) == 1
    assert await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION) == []
    assert llm_standin.requests == []


async def session_summary(wm, ns: str) -> pb.SessionSummary:
    return (await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id="t"))).session.summary


async def test_summaries_are_abstractive_and_extractive_when_the_call_fails(
    wm, events, *, mux: RedisMux, embedder: BatchingEmbedder, model, llm_standin, ns: str
) -> None:
    fold = FoldJob(
        SummaryStore(mux),
        ExtractiveSummarizer(embedder.background()),
        FixedDefaults(DEFAULTS),
        jobs_model(model, mux),
    )
    await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2)[:5])  # 5 left the window
    await fold.run(ns, "t")
    summary = await session_summary(wm, ns)
    assert summary.summarizer == MODEL
    assert summary.turn_count == 5
    # The stand-in's summary: each turn's first sentence.
    assert summary.text.startswith(f"{SISTER} {FLAT} Note 0: {TOPICS[0]}.")
    assert llm_standin.requests[0].input["summary"] == ""
    # The next fold's call fails every attempt: this fold is extractive.
    llm_standin.script(*[server_error()] * 3)
    await append(wm, ns, "t", ["I started learning the cello."])
    await fold.run(ns, "t")
    summary = await session_summary(wm, ns)
    assert (summary.summarizer, summary.turn_count) == ("extractive", 6)
    [failure] = await failures(events, ns)
    assert (failure["job"], failure["reason"], failure["attempts"]) == (
        "summaries",
        "unavailable",
        3,
    )
    # And the model's again once it answers, from the summary so far.
    await append(wm, ns, "t", ["I sold my old bicycle."])
    await fold.run(ns, "t")
    assert (await session_summary(wm, ns)).summarizer == MODEL
    assert llm_standin.requests[-1].input["summary"] == summary.text


async def test_a_server_with_a_language_model_forms_facts_on_its_own(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder, llm_standin, tmp_path: Path, ns: str
) -> None:
    key_file = tmp_path / "llm.key"
    key_file.write_text("sk-e2e\n")
    async with serving(
        own_redis.url,
        embedder,
        jobs=True,
        llm_url=llm_standin.url,
        llm_model=MODEL,
        llm_key_file=key_file,
    ) as (_, channel):
        wm = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2))

        async def facts_formed() -> bool:
            return len(await memories(ltm, ns, lpb.MEMORY_SOURCE_EXTRACTION)) == 2

        async def summarized() -> bool:
            return (await session_summary(wm, ns)).summarizer == MODEL

        await eventually(facts_formed, "the facts formed")
        await eventually(summarized, "an abstractive summary")
    assert {r.headers["Authorization"] for r in llm_standin.requests} == {"Bearer sk-e2e"}
    assert {r.task for r in llm_standin.requests} == {"facts", "summary"}


async def test_a_namespace_off_the_model_folds_extractively_without_a_call(
    wm, *, mux: RedisMux, embedder: BatchingEmbedder, model, llm_standin, ns: str
) -> None:
    fold = FoldJob(
        SummaryStore(mux),
        ExtractiveSummarizer(embedder.background()),
        FixedDefaults(with_model(DEFAULTS, enabled=False)),
        jobs_model(model, mux),
    )
    await append(wm, ns, "t", chunk(0) + chunk(1) + chunk(2)[:5])
    await fold.run(ns, "t")
    summary = await session_summary(wm, ns)
    assert (summary.summarizer, summary.turn_count) == ("extractive", 5)
    assert llm_standin.requests == []
