"""Running summaries end to end: real servers, a real `memrpc worker`
process, the real embedded Redis and model.

- 60 turns into a 20-turn window: the summary covers exactly the 40 turns
  the window evicted, by event id, and keeps at least 8 of the 10 facts
  planted in them (`long_conversation.py`), as GetContext returns it;
- a worker killed (SIGKILL) while its group holds delivered, unacknowledged
  entries, then restarted: every evicted turn is folded exactly once;
- a poison feed entry is dead-lettered after its most deliveries, and the
  summaries go on;
- a window emptied by UpdateSession is folded with no other append;
- `memrpc serve --jobs=false` does not fold; two runners on one feed fold
  each turn once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio
import redis.exceptions
from google.protobuf import field_mask_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from long_conversation import FACTS, TURNS, facts_found
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import BatchingEmbedder
from memrpc.server import JOBS_SERVICE
from memrpc.store import keys
from memrpc.v1 import working_memory_pb2 as wm
from memrpc.v1 import working_memory_pb2_grpc
from test_faults import SERVING, WITHIN_S, eventually, serving

WINDOW = 20
EVICTED = len(TURNS) - WINDOW
GROUP = "memrpc.summaries"
# A worker loads the model before it runs: more time than WITHIN_S on a
# busy machine.
WORKER_START_S = 120.0


async def append_conversation(
    stub: working_memory_pb2_grpc.WorkingMemoryStub, ns: str, thread: str
) -> list[str]:
    """Appends the 60 turns one or two at a time into a 20-turn window, as
    an agent would; returns their event ids in order."""
    ids: list[str] = []
    at = 0
    while at < len(TURNS):
        step = 1 if at % 3 == 0 else 2
        reply = await stub.AppendTurns(
            wm.AppendTurnsRequest(
                namespace=ns,
                thread_id=thread,
                turns=[
                    wm.TurnInput(role=role, content=text) for role, text in TURNS[at : at + step]
                ],
                max_window_turns=WINDOW,
            )
        )
        ids += reply.event_ids
        at += step
    assert len(ids) == len(TURNS)
    return ids


async def folded(
    stub: working_memory_pb2_grpc.WorkingMemoryStub,
    ns: str,
    thread: str,
    *,
    within: float = WITHIN_S,
) -> wm.SessionSummary:
    """The thread's summary once nothing is pending (a bounded poll)."""
    deadline = time.monotonic() + within
    while True:
        session = (
            await stub.GetSession(wm.GetSessionRequest(namespace=ns, thread_id=thread))
        ).session
        if session.HasField("summary") and session.summary.pending_turn_count == 0:
            return session.summary
        if time.monotonic() > deadline:
            pytest.fail(f"{thread}: turns still pending after {within} s: {session.summary}")
        await asyncio.sleep(0.05)


def assert_covers_the_evicted_turns(summary: wm.SessionSummary, ids: Sequence[str]) -> None:
    """Exactly the 40 evicted turns, once each, none skipped."""
    assert summary.first_event_id == ids[0]
    assert summary.last_event_id == ids[EVICTED - 1]
    assert summary.turn_count == EVICTED
    assert summary.skipped_turn_count == 0
    assert summary.pending_turn_count == 0
    assert summary.summarizer == "extractive"


async def test_sixty_turns_into_a_twenty_turn_window_give_a_summary_of_the_forty_evicted(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    # The server runs the jobs in-process, as `memrpc serve` does by default.
    async with serving(own_redis.url, embedder, jobs=True) as (_, channel):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        ids = await append_conversation(stub, ns, "wedding")
        summary = await folded(stub, ns, "wedding")
        # What the agent's next step reads: GetContext holds the summary.
        context = await stub.GetContext(wm.GetContextRequest(namespace=ns, thread_id="wedding"))
    assert_covers_the_evicted_turns(summary, ids)
    assert context.session.summary == summary
    # The facts were all said in the evicted turns: the summary alone keeps them.
    found = facts_found(context.session.summary.text)
    assert len(found) >= 8, f"only {found} of {list(FACTS)} in {summary.text!r}"


async def test_a_window_emptied_by_an_update_is_folded_without_another_append(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder, ns: str
) -> None:
    async with serving(own_redis.url, embedder, jobs=True) as (_, channel):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        turns = [wm.TurnInput(role=role, content=text) for role, text in TURNS[:3]]
        appended = await stub.AppendTurns(
            wm.AppendTurnsRequest(namespace=ns, thread_id="emptied", turns=turns)
        )

        async def consumed() -> bool:
            """The job has run on the append's entries (nothing left of the window)."""
            info = await summary_group(own_redis.url, ns)
            return info is not None and info["lag"] == 0 and info["pending"] == 0

        # Only the emptying's own event can run the job now.
        await eventually(consumed, "the append's entries consumed")
        await stub.UpdateSession(
            wm.UpdateSessionRequest(
                namespace=ns,
                thread_id="emptied",
                update_mask=field_mask_pb2.FieldMask(paths=["turns"]),
            )
        )
        summary = await folded(stub, ns, "emptied")
    ids = list(appended.event_ids)
    assert (summary.first_event_id, summary.last_event_id) == (ids[0], ids[-1])
    assert (summary.turn_count, summary.skipped_turn_count) == (3, 0)


def worker_process(redis_url: str, work_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    """`memrpc worker` on `redis_url` as a child process (its output in
    `work_dir`/worker.log)."""
    args = [sys.executable, "-m", "memrpc.cli", "worker", "--redis-url", redis_url, *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMRPC_")}
    with (work_dir / "worker.log").open("ab") as log:
        return subprocess.Popen(args, env=env, stdout=log, stderr=log)


async def jobs_health(channel: grpc.aio.Channel) -> int:
    """The status a server reports for its background jobs."""
    reply = await health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=JOBS_SERVICE)
    )
    return int(reply.status)


async def summary_group(url: str, ns: str, group: str = GROUP) -> dict[str, Any] | None:
    """The summary job's group (or another `group`) on the feed of `ns`
    (`XINFO GROUPS`), if any."""
    client = redis.asyncio.from_url(url)
    try:
        groups = await client.xinfo_groups(keys.feed(ns))
    except redis.exceptions.ResponseError:  # no feed
        return None
    finally:
        await client.aclose()
    return next((info for info in groups if info["name"] == group.encode()), None)


# Tries at catching a worker mid-job: one that finished its whole batch
# before it was stopped is tried again on a new namespace.
KILL_ATTEMPTS = 3


async def killed_mid_job(url: str, ns: str, tmp_path: Path) -> bool:
    """Starts a `memrpc worker`, freezes it (SIGSTOP) once its group holds
    delivered entries, and kills it (SIGKILL); whether it still held
    unacknowledged entries then, i.e. died mid-job."""
    worker = worker_process(url, tmp_path, "--job-claim-idle", "1")
    try:
        deadline = time.monotonic() + WORKER_START_S
        while (info := await summary_group(url, ns)) is None or not info["pending"]:
            assert worker.poll() is None, "memrpc worker exited"
            assert time.monotonic() < deadline, "the worker never held entries"
            await asyncio.sleep(0.005)
        worker.send_signal(signal.SIGSTOP)
        info = await summary_group(url, ns)
        return info is not None and info["pending"] > 0
    finally:
        worker.send_signal(signal.SIGKILL)
        await asyncio.to_thread(worker.wait, WITHIN_S)


async def test_a_worker_killed_mid_job_and_restarted_folds_each_turn_once(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder, tmp_path: Path
) -> None:
    threads = [f"t{i}" for i in range(4)]
    async with serving(own_redis.url, embedder, jobs=False) as (_, channel):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        for attempt in range(KILL_ATTEMPTS):
            ns = f"killed{attempt}"
            # The backlog is there before any runner: the worker's first
            # batch holds every thread's turns.
            ids = dict(
                zip(
                    threads,
                    await asyncio.gather(*(append_conversation(stub, ns, t) for t in threads)),
                    strict=True,
                )
            )
            assert await summary_group(own_redis.url, ns) is None
            if await killed_mid_job(own_redis.url, ns, tmp_path):
                break
        else:
            pytest.fail(
                f"the worker finished its batch before it was stopped {KILL_ATTEMPTS} times"
            )
        restarted = worker_process(own_redis.url, tmp_path, "--job-claim-idle", "1")
        try:
            for thread in threads:
                summary = await folded(stub, ns, thread, within=WORKER_START_S)
                assert_covers_the_evicted_turns(summary, ids[thread])

            # A run folds every pending turn of its thread, so the summaries
            # can be whole before the worker has read every entry: it reads
            # and acknowledges the rest (folding nothing) before it stops.
            async def drained() -> bool:
                info = await summary_group(own_redis.url, ns)
                return info is not None and info["pending"] == 0 and info["lag"] == 0

            await eventually(drained, "the restarted worker acknowledges every entry")
            # ... and folded none of them twice.
            for thread in threads:
                assert_covers_the_evicted_turns(await folded(stub, ns, thread), ids[thread])
        finally:
            restarted.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(restarted.wait, WITHIN_S) == 0


async def test_a_poison_entry_is_dead_lettered_and_summaries_go_on(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder
) -> None:
    ns = "poison"
    client = redis.asyncio.from_url(own_redis.url)
    try:
        async with serving(
            own_redis.url, embedder, jobs=True, job_claim_idle=0.2, job_max_deliveries=2
        ) as (_, channel):
            stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
            # A turn's feed entry with no thread, written around the server.
            await stub.AppendTurns(
                wm.AppendTurnsRequest(
                    namespace=ns, thread_id="first", turns=[wm.TurnInput(role="user", content="hi")]
                )
            )
            poison = await client.xadd(keys.feed(ns), {"type": "memrpc.turn", "event_id": "1-0"})
            ids = await append_conversation(stub, ns, "after")
            assert_covers_the_evicted_turns(await folded(stub, ns, "after"), ids)

            async def dead_lettered() -> bool:
                return len(await client.xrange(keys.dead_letters(ns))) == 2

            await eventually(dead_lettered, "the poison entry dead-lettered by both jobs")
        # Each job on the feed (summaries, formation) gives up on it once.
        letters = [letter for _, letter in await client.xrange(keys.dead_letters(ns))]
        assert sorted(letter[b"job"] for letter in letters) == [
            b"memrpc.formation",
            b"memrpc.summaries",
        ]
        for letter in letters:
            assert letter[b"entry_id"] == poison
            assert letter[b"deliveries"] == b"2"
            assert letter[b"error"] == b"a feed entry without a thread"
    finally:
        await client.aclose()


async def test_serve_without_jobs_does_not_fold_and_two_runners_fold_each_turn_once(
    own_redis: EmbeddedRedis, embedder: BatchingEmbedder
) -> None:
    ns = "two"
    threads = [f"t{i}" for i in range(3)]
    async with serving(own_redis.url, embedder, jobs=False) as (_, channel):
        stub = working_memory_pb2_grpc.WorkingMemoryStub(channel)
        first = await append_conversation(stub, ns, "before")
        session = (
            await stub.GetSession(wm.GetSessionRequest(namespace=ns, thread_id="before"))
        ).session
        # No runner: nothing read the feed, nothing folded, no jobs' health.
        assert await summary_group(own_redis.url, ns) is None
        with pytest.raises(grpc.aio.AioRpcError) as unknown:
            await jobs_health(channel)
        assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
        assert session.summary.turn_count == 0
        assert session.summary.pending_turn_count == EVICTED
        async with (
            serving(own_redis.url, embedder, jobs=True) as (_, one),
            serving(own_redis.url, embedder, jobs=True) as (_, two),
        ):
            # Appends through both servers, to threads folded by both runners.
            stubs = [working_memory_pb2_grpc.WorkingMemoryStub(c) for c in (one, two)]
            ids = dict(
                zip(
                    threads,
                    await asyncio.gather(
                        *(append_conversation(stubs[i % 2], ns, t) for i, t in enumerate(threads))
                    ),
                    strict=True,
                )
            )
            assert await jobs_health(one) == SERVING
            assert await jobs_health(two) == SERVING
            assert_covers_the_evicted_turns(await folded(stub, ns, "before"), first)
            for thread in threads:
                assert_covers_the_evicted_turns(await folded(stub, ns, thread), ids[thread])
        info = await summary_group(own_redis.url, ns)
        assert info is not None
        assert info["consumers"] == 0
        assert info["pending"] == 0
