"""The running-summary job (memrpc/jobs/fold.py) run directly, with the real
store, summarizer and model: it folds everything pending in one run, a
repeat folds nothing twice, and it follows the namespace's summary policy
(off, or waiting for enough turns); the jobs fold in the embedder's
background lane, so a full embedding queue does not stop them."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from memrpc.config import Settings
from memrpc.embedding import BatchingEmbedder, EmbeddingQueueFull, OnnxModel
from memrpc.jobs.fold import FoldJob
from memrpc.jobs.runtime import process_jobs
from memrpc.limits import EMBED_BACKGROUND_BATCH, Limits
from memrpc.models import Model, Models
from memrpc.namespace_defaults import NamespaceDefaults, SummaryPolicy, server_defaults
from memrpc.store.events import Retention
from memrpc.store.memory_index import ORIGINAL_FIELD
from memrpc.store.redis_mux import RedisMux
from memrpc.store.summaries import SummaryStore
from memrpc.summaries.extractive import ExtractiveSummarizer
from memrpc.v1 import working_memory_pb2 as pb
from memrpc.v1 import working_memory_pb2_grpc
from support import Gate

Stub = working_memory_pb2_grpc.WorkingMemoryStub


class Policy:
    """A namespace's defaults with the summary policy a test sets."""

    def __init__(self, summaries: SummaryPolicy) -> None:
        base = server_defaults(Limits.from_settings(Settings()))
        self._defaults = dataclasses.replace(base, summaries=summaries)

    async def defaults(self, ns: str) -> NamespaceDefaults:
        return self._defaults


RETENTION = Retention(log_max_len=1000, feed_max_len=1000)
ON = SummaryPolicy(enabled=True, max_chars=1000, min_fold_turns=1)


def job(mux: RedisMux, embedder: BatchingEmbedder, policy: SummaryPolicy) -> FoldJob:
    return FoldJob(SummaryStore(mux), ExtractiveSummarizer(embedder), Policy(policy))


async def append(wm: Stub, ns: str, thread: str, turns: int) -> list[str]:
    """`turns` turns into a 5-turn window, one by one; their event ids."""
    ids = []
    for i in range(turns):
        reply = await wm.AppendTurns(
            pb.AppendTurnsRequest(
                namespace=ns,
                thread_id=thread,
                turns=[pb.TurnInput(role="user", content=f"Turn {i}: we met Ada at gate {i}.")],
                max_window_turns=5,
            )
        )
        ids += reply.event_ids
    return ids


async def summary(wm: Stub, ns: str, thread: str) -> pb.SessionSummary:
    reply = await wm.GetSession(pb.GetSessionRequest(namespace=ns, thread_id=thread))
    return reply.session.summary


async def test_one_run_folds_everything_pending_and_a_repeat_folds_nothing(
    wm: Stub, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    ids = await append(wm, ns, "t", 17)
    fold = job(mux, embedder, ON)
    await fold.run(ns, "t")
    first = await summary(wm, ns, "t")
    assert (first.first_event_id, first.last_event_id) == (ids[0], ids[11])
    assert (first.turn_count, first.pending_turn_count) == (12, 0)
    assert "Ada" in first.text
    # A repeated delivery: nothing left, nothing written.
    await fold.run(ns, "t")
    assert await summary(wm, ns, "t") == first


async def test_a_namespace_with_summaries_off_is_left_alone(
    wm: Stub, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    await append(wm, ns, "t", 8)
    await job(mux, embedder, dataclasses.replace(ON, enabled=False)).run(ns, "t")
    left = await summary(wm, ns, "t")
    assert (left.turn_count, left.pending_turn_count) == (0, 3)


async def test_a_fold_waits_for_the_namespaces_min_turns(
    wm: Stub, mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    await append(wm, ns, "t", 8)
    waiting = job(mux, embedder, dataclasses.replace(ON, min_fold_turns=4))
    await waiting.run(ns, "t")
    assert (await summary(wm, ns, "t")).pending_turn_count == 3
    await append(wm, ns, "t", 1)
    await waiting.run(ns, "t")
    folded = await summary(wm, ns, "t")
    assert (folded.turn_count, folded.pending_turn_count) == (4, 0)


async def test_a_thread_without_a_session_has_nothing_to_fold(
    mux: RedisMux, embedder: BatchingEmbedder, ns: str
) -> None:
    await job(mux, embedder, ON).run(ns, "never")


async def test_the_jobs_fold_under_a_full_embedding_queue(
    wm: Stub, mux: RedisMux, ns: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = OnnxModel()
    gate = Gate(model.embed)
    monkeypatch.setattr(model, "embed", gate)
    bounded = BatchingEmbedder(model, max_queue=1)
    try:
        await append(wm, ns, "t", 25)  # 20 turns to fold: 20 texts to embed
        fold, _formation = process_jobs(
            mux, Models(mux, Model(bounded, ORIGINAL_FIELD)), Policy(ON), RETENTION
        ).events
        gate.open.clear()
        running = asyncio.create_task(bounded.embed(["running"]))
        await gate.wait_entered()
        queued = asyncio.create_task(bounded.embed(["queued"]))  # the queue is full
        folding = asyncio.create_task(fold.run(ns, "t"))
        for _ in range(1000):  # until the fold's texts wait (at most 10 s)
            if bounded.background_waiting or folding.done():
                break
            await asyncio.sleep(0.01)
        assert bounded.background_waiting == 20
        with pytest.raises(EmbeddingQueueFull):
            await bounded.embed(["over"])
        gate.open.set()
        await asyncio.gather(running, queued, folding)
        assert gate.batches[:2] == [["running"], ["queued"]]
        sizes = [min(EMBED_BACKGROUND_BATCH, 20 - i) for i in range(0, 20, EMBED_BACKGROUND_BATCH)]
        assert [len(batch) for batch in gate.batches[2:]] == sizes
        folded = await summary(wm, ns, "t")
        assert (folded.turn_count, folded.pending_turn_count) == (20, 0)
    finally:
        gate.open.set()
        await bounded.aclose()
