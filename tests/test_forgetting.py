"""The forgetting job (memrpc/jobs/forgetting.py, store/forgetting.py,
lua/memory_forget.lua) on the real Redis and model: it forgets exactly
what the namespace's policy says (the least recently recalled beyond a
user's budget; the memories unrecalled too long), never a pinned memory
nor one recalled since it was read, nothing of other users or namespaces,
in bounded runs; each memory forgotten is an event of the thread
`memrpc.memories`, read back with ListEvents."""

from __future__ import annotations

import dataclasses
import datetime

import pytest
from google.protobuf import json_format
from prometheus_client import REGISTRY

import memrpc.jobs.forgetting
import memrpc.jobs.periodic
from memrpc import metrics
from memrpc.config import Settings
from memrpc.embedding import BatchingEmbedder
from memrpc.jobs.forgetting import ForgettingJob
from memrpc.jobs.runner import RunnerPolicy
from memrpc.jobs.runtime import BackgroundJobs, Jobs, process_jobs
from memrpc.limits import Limits
from memrpc.models import Model, Models
from memrpc.namespace_defaults import ForgettingPolicy, NamespaceDefaults, server_defaults
from memrpc.store import keys, memory_document
from memrpc.store.events import Retention
from memrpc.store.forgetting import ForgettingStore
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_changes import CHANGES_THREAD, ForgetRule
from memrpc.store.memory_index import ORIGINAL_FIELD
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisMux
from memrpc.v1 import event_log_pb2 as el
from memrpc.v1 import event_log_pb2_grpc, long_term_memory_pb2_grpc
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from test_faults import eventually

pytestmark = [pytest.mark.genuine_redis, pytest.mark.on_cluster]

DAY_MS = 86_400_000
HOUR_S = 3600.0
RETENTION = Retention(log_max_len=1000, feed_max_len=1000)


class Policy:
    """A namespace's defaults with the forgetting policy a test sets (only
    in namespace `only` when given: the server's defaults elsewhere)."""

    def __init__(self, forgetting: ForgettingPolicy, only: str | None = None) -> None:
        self._base = server_defaults(Limits.from_settings(Settings()))
        self._defaults = dataclasses.replace(self._base, forgetting=forgetting)
        self._only = only

    async def defaults(self, ns: str) -> NamespaceDefaults:
        return self._defaults if self._only in (None, ns) else self._base


def budget(keep: int) -> ForgettingPolicy:
    return ForgettingPolicy(
        enabled=True, max_memories_per_user=keep, unrecalled_s=0.0, interval_s=HOUR_S
    )


def unrecalled(after_s: float) -> ForgettingPolicy:
    return ForgettingPolicy(
        enabled=True, max_memories_per_user=0, unrecalled_s=after_s, interval_s=HOUR_S
    )


def job(mux: RedisMux, policy: ForgettingPolicy) -> ForgettingJob:
    return ForgettingJob(ForgettingStore(mux, RETENTION), Policy(policy))


class Memories:
    """Memories of one namespace written through the long-term store, with
    the recall times a test stages (as the access recorder writes them)."""

    def __init__(self, mux: RedisMux, embedder: BatchingEmbedder, ns: str) -> None:
        self.mux, self.embedder, self.ns = mux, embedder, ns
        self.store = LongTermStore(mux, dim=embedder.dim)

    async def create(self, user: str, *texts: str, pinned: bool = False) -> list[str]:
        vectors = await self.embedder.embed(list(texts))
        items = [
            NewMemory(text=text, embedding=vector, user_id=user, pinned=pinned)
            for text, vector in zip(texts, vectors, strict=True)
        ]
        created = await self.store.create(self.ns, items, max_distance=0)
        assert all(item.created for item in created)
        return [item.memory_id for item in created]

    async def recalled_at(self, memory_id: str, ms: int | None) -> None:
        """Stages a last recall at `ms` (None: a document from before
        recall times, counted from its creation)."""
        key = keys.memory(self.ns, memory_id)
        if ms is None:
            await self.mux.execute("HDEL", key, memory_document.RECALLED_MS)
        else:
            await self.mux.execute("HSET", key, memory_document.RECALLED_MS, ms)

    async def living(self, *ids: str) -> set[str]:
        return {i for i in ids if await self.store.get(self.ns, i) is not None}


@pytest.fixture
async def memories(mux: RedisMux, embedder: BatchingEmbedder, ns: str) -> Memories:
    found = Memories(mux, embedder, ns)
    await found.store.ensure_index()
    return found


TEXTS = [
    "I prefer window seats on long flights",
    "My daughter is allergic to peanuts",
    "We are planning a trip to Lisbon in May",
    "I work as a nurse on night shifts",
    "My favourite tea is smoky lapsang souchong",
]


def now_ms() -> int:
    return int(datetime.datetime.now(datetime.UTC).timestamp() * 1000)


async def forgotten_events(
    events: event_log_pb2_grpc.EventLogStub, ns: str
) -> list[dict[str, object]]:
    listed = await events.ListEvents(
        el.ListEventsRequest(namespace=ns, thread_id=CHANGES_THREAD, page_size=1000)
    )
    assert {event.type for event in listed.events} <= {"memrpc.memory_forgotten"}
    return [json_format.MessageToDict(event.json) for event in listed.events]


def rfc3339(ms: int) -> str:
    moment = datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


async def test_a_budget_forgets_the_least_recently_recalled_beyond_it(
    mux: RedisMux, memories: Memories, embedder: BatchingEmbedder, ns: str,
    events: event_log_pb2_grpc.EventLogStub,
) -> None:  # fmt: skip
    alice = await memories.create("alice", *TEXTS)
    bob = await memories.create("bob", *TEXTS[:3])
    other = Memories(mux, embedder, f"{ns}x")
    elsewhere = await other.create("alice", *TEXTS)
    t = now_ms()
    for memory_id, minutes in zip(alice, [50, 10, 40, 20, 30], strict=True):
        await memories.recalled_at(memory_id, t + minutes * 60_000)
    assert await job(mux, budget(3)).run(ns, t + DAY_MS) is False
    # The two least recently recalled of alice's five; bob's three are
    # within the budget, the other namespace's five are not in this one.
    assert await memories.living(*alice) == {alice[0], alice[2], alice[4]}
    assert await memories.living(*bob) == set(bob)
    assert await other.living(*elsewhere) == set(elsewhere)
    forgotten = await forgotten_events(events, ns)
    assert sorted((str(e["memory_id"]), e["rule"]) for e in forgotten) == sorted(
        [(alice[1], "budget"), (alice[3], "budget")]
    )


async def test_budget_counts_per_user_unpinned_and_no_user_as_one(
    mux: RedisMux, memories: Memories, ns: str
) -> None:
    t = now_ms()
    pinned = await memories.create("carol", *TEXTS[:3], pinned=True)
    carol = await memories.create("carol", *TEXTS[3:])
    nobody = await memories.create("", *TEXTS[:3])
    for memory_id in pinned:  # the least recently recalled of all
        await memories.recalled_at(memory_id, t - DAY_MS)
    await memories.recalled_at(carol[0], t + 1)
    await memories.recalled_at(carol[1], t + 2)
    for i, memory_id in enumerate(nobody):
        await memories.recalled_at(memory_id, t + 10 - i)
    assert await job(mux, budget(2)).run(ns, t + DAY_MS) is False
    # Carol's pinned memories neither go nor count: her two others stay.
    assert await memories.living(*pinned, *carol) == {*pinned, *carol}
    # The memories without a user are one user's: the least recent goes.
    assert await memories.living(*nobody) == {nobody[0], nobody[1]}


async def test_unrecalled_forgets_exactly_the_stale_memories_never_a_pinned_one(
    mux: RedisMux, memories: Memories, ns: str
) -> None:
    t = now_ms()
    stale, fresh, old_document = await memories.create("dan", *TEXTS[:3])
    [pinned] = await memories.create("dan", TEXTS[3], pinned=True)
    [never] = await memories.create("erin", TEXTS[4])
    await memories.recalled_at(stale, t - 2 * DAY_MS)
    await memories.recalled_at(fresh, t - 3_600_000)
    await memories.recalled_at(old_document, None)  # counted from its creation
    await memories.recalled_at(pinned, t - 30 * DAY_MS)
    later = t + 3 * DAY_MS
    await memories.recalled_at(fresh, later - 3_600_000)
    assert await job(mux, unrecalled(DAY_MS / 1000)).run(ns, later) is False
    # `never`, created now and never recalled, is three days old by then.
    assert await memories.living(stale, fresh, old_document, pinned, never) == {fresh, pinned}


async def test_a_memory_recalled_between_read_and_forget_is_kept(
    mux: RedisMux, memories: Memories, ns: str
) -> None:
    store = ForgettingStore(mux, RETENTION)
    t = now_ms()
    ids = await memories.create("fay", *TEXTS)
    for i, memory_id in enumerate(ids):
        await memories.recalled_at(memory_id, t - DAY_MS + i)
    read = now_ms() + 1  # after their creation
    stale = await store.unrecalled(ns, read, read, count=10)
    assert len(stale) == 5
    await memories.recalled_at(ids[0], t + 5)  # a search returns it meanwhile
    forgot = await store.forget(ns, ForgetRule.UNRECALLED, stale, keep=None, now_ms=read)
    assert forgot.forgotten == 4
    assert await memories.living(*ids) == {ids[0]}
    # Under a budget: the chosen memory recalled meanwhile stays, the run
    # says work is left, and the next run takes the next least recent.
    more = await memories.create("gus", *TEXTS)
    for i, memory_id in enumerate(more):
        await memories.recalled_at(memory_id, t + i)
    [(user, excess)] = [found for found in await store.over_budget(ns, t, 4) if found[0] == "gus"]
    assert (user, excess) == ("gus", 1)
    [chosen] = await store.least_recalled(ns, t, "gus", count=excess)
    assert chosen.key == keys.memory(ns, more[0])
    await memories.recalled_at(more[0], t + 100)
    forgot = await store.forget(ns, ForgetRule.BUDGET, [chosen], keep=4, now_ms=t, user="gus")
    assert (forgot.forgotten, forgot.left) == (0, 1)
    assert await job(mux, budget(4)).run(ns, t) is False
    assert await memories.living(*more) == set(more) - {more[1]}


async def test_each_memory_forgotten_is_an_event_with_what_it_was_and_why(
    mux: RedisMux, memories: Memories, ns: str, events: event_log_pb2_grpc.EventLogStub
) -> None:
    ids = await memories.create("hal", *TEXTS[:4])
    # Creation times on edges of the calendar, for the events' times.
    created = [951_782_400_000, 1_709_164_800_123, 4_133_894_399_999, 86_399_999]
    for memory_id, ms in zip(ids, created, strict=True):
        await mux.execute("HSET", keys.memory(ns, memory_id), memory_document.CREATE_MS, ms)
        await memories.recalled_at(memory_id, None)
    key = keys.memory(ns, ids[0])
    doc = memory_document
    await mux.execute(
        "HSET", key, doc.ACCESS_COUNT, 3, doc.LAST_ACCESS_MS, 1_700_000_000_007,
        doc.RECALLED_MS, 1_700_000_000_007, doc.HIT_COUNT, 2,
    )  # fmt: skip
    # As of 2103, after every one of them.
    assert await job(mux, unrecalled(HOUR_S)).run(ns, 4_200_000_000_000) is False
    assert await memories.living(*ids) == set()
    forgotten = {str(e["memory_id"]): e for e in await forgotten_events(events, ns)}
    assert forgotten[ids[0]] == {
        "memory_id": ids[0],
        "user_id": "hal",
        "kind": "semantic",
        "text": TEXTS[0],
        "rule": "unrecalled",
        "hit_count": 2.0,
        "access_count": 3.0,
        "create_time": "2000-02-29T00:00:00.000Z",
        "last_access_time": rfc3339(1_700_000_000_007),
    }
    for memory_id, ms in zip(ids[1:], created[1:], strict=True):
        assert forgotten[memory_id]["create_time"] == rfc3339(ms)
        assert "last_access_time" not in forgotten[memory_id]  # never recalled
        assert forgotten[memory_id]["access_count"] == 0


async def test_runs_are_bounded_and_say_when_work_is_left(
    mux: RedisMux, memories: Memories, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(memrpc.jobs.forgetting, "FORGETTING_RUN_MEMORIES", 2)
    t = now_ms()
    stale = await memories.create("ivy", *TEXTS)
    over = await memories.create("jon", *TEXTS)
    later = t + 2 * DAY_MS  # the stale ones were recalled at their creation
    for memory_id in over:
        await memories.recalled_at(memory_id, later - 3_600_000)
    policy = ForgettingPolicy(
        enabled=True, max_memories_per_user=2, unrecalled_s=DAY_MS / 1000, interval_s=HOUR_S
    )

    def counted(rule: str) -> float:
        return REGISTRY.get_sample_value("memrpc_memories_forgotten_total", {"rule": rule}) or 0.0

    metrics.enable()
    try:
        before = counted("unrecalled"), counted("budget")
        results = [await job(mux, policy).run(ns, later) for _ in range(6)]
        after = counted("unrecalled"), counted("budget")
    finally:
        metrics.disable()
    # 5 stale, then 3 beyond jon's budget, 2 a run: the fourth run
    # forgets the last two and says so.
    assert results == [True, True, True, False, False, False]
    assert await memories.living(*stale) == set()
    assert len(await memories.living(*over)) == 2
    assert (after[0] - before[0], after[1] - before[1]) == (5, 3)


async def test_the_job_is_on_only_with_a_rule(mux: RedisMux, ns: str) -> None:
    assert await job(mux, budget(3)).interval_s(ns) == HOUR_S
    assert await job(mux, unrecalled(HOUR_S)).interval_s(ns) == HOUR_S
    assert await job(mux, budget(0)).interval_s(ns) is None
    off = dataclasses.replace(budget(3), enabled=False)
    assert await job(mux, off).interval_s(ns) is None
    assert await job(mux, off).run(ns, now_ms()) is False


async def test_every_process_runs_the_forgetting_job(
    mux: RedisMux, embedder: BatchingEmbedder
) -> None:
    jobs = process_jobs(
        mux, Models(mux, Model(embedder, ORIGINAL_FIELD)), Policy(budget(1)), RETENTION
    )
    assert "forgetting" in [periodic.name for periodic in jobs.periodic]


async def test_the_runners_forget_in_a_namespace_with_memories_only(
    memories: Memories,
    ltm: long_term_memory_pb2_grpc.LongTermMemoryStub,
    events: event_log_pb2_grpc.EventLogStub,
    ns: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memrpc.jobs.periodic, "PERIODIC_TICK_S", 0.02)
    mux = memories.mux
    # Written by CreateMemories alone, no turns: the namespace is noted.
    inputs = [ltm_pb.MemoryInput(text=text, user_id="kim") for text in TEXTS]
    created = await ltm.CreateMemories(ltm_pb.CreateMemoriesRequest(namespace=ns, memories=inputs))
    ids = [result.memory.id for result in created.results]
    assert ns in await NamespaceSet(mux).members()
    forgetting = ForgettingJob(ForgettingStore(mux, RETENTION), Policy(budget(2), only=ns))
    jobs = BackgroundJobs(mux, Jobs(events=[], periodic=[forgetting]), RunnerPolicy(1.0, 3))
    jobs.start()
    try:
        await eventually(
            lambda: _count_forgotten(events, ns, 3), "the memories beyond the budget forgotten"
        )
    finally:
        await jobs.stop(grace=5)
    assert len(await memories.living(*ids)) == 2


async def _count_forgotten(events: event_log_pb2_grpc.EventLogStub, ns: str, count: int) -> bool:
    return len(await forgotten_events(events, ns)) == count
