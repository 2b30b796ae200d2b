"""Memory formation survives a worker killed mid-batch: a real `memrpc
serve --jobs=false` process takes a backlog of turns over several threads,
a real `memrpc worker` starts forming them and is killed (SIGKILL) once
some but not all are formed, while its consumer holds unacknowledged
entries; a second worker claims those (after `--job-claim-idle`) and forms
the rest. Every turn that left a window is then in exactly one formed
memory, each memory was written once (its hit count 1: the namespace
deduplicates exact texts only, so a chunk formed twice would show as a hit),
and each memory's text is made of its own turns' sentences.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import grpc
import pytest
import redis.asyncio
from google.protobuf import field_mask_pb2

from memrpc.embedded_redis import EmbeddedRedis
from memrpc.limits import FORMATION_TURNS_PER_MEMORY
from memrpc.store import keys
from memrpc.store.formation import event_ms
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1 import (
    long_term_memory_pb2_grpc,
    namespace_settings_pb2_grpc,
    working_memory_pb2_grpc,
)
from memrpc.v1 import namespace_settings_pb2 as npb
from memrpc.v1 import working_memory_pb2 as wm
from test_faults import CHANNEL_OPTIONS, end_process, free_port, serve_process, until_serving
from test_list_memories import list_all
from test_summaries_e2e import WORKER_START_S, summary_group, worker_process

WINDOW = 20
TURNS = 60
EVICTED = TURNS - WINDOW
PER_MEMORY = int(FORMATION_TURNS_PER_MEMORY.default)
GROUP = "memrpc.formation"
# Threads of the first try; each try that finds the worker done before it
# was stopped doubles them (a larger backlog, never a sleep).
THREADS = 8
ATTEMPTS = 3
USER = "crash-user"


def content(thread: int, turn: int) -> str:
    """A turn's text: sentences no other turn has."""
    return (
        f"Courier {thread}-{turn} delivered parcel {thread * 1000 + turn} to depot {turn}. "
        f"The receipt code was {thread:02d}{turn:03d}."
    )


async def append_backlog(
    stub: working_memory_pb2_grpc.WorkingMemoryStub, ns: str, thread: int
) -> list[str]:
    """Appends `TURNS` turns two at a time into a `WINDOW`-turn window; their
    event ids in order."""
    ids: list[str] = []
    for turn in range(0, TURNS, 2):
        reply = await stub.AppendTurns(
            wm.AppendTurnsRequest(
                namespace=ns,
                thread_id=f"t{thread}",
                user_id=USER,
                max_window_turns=WINDOW,
                turns=[
                    wm.TurnInput(role="user", content=content(thread, turn + i)) for i in range(2)
                ],
            )
        )
        ids += reply.event_ids
    return ids


async def formed_turns(client: redis.asyncio.Redis, ns: str, threads: int) -> int:
    """The turns formed so far over the threads (their sessions' cursors)."""
    async with client.pipeline(transaction=False) as pipe:
        for thread in range(threads):
            pipe.hget(keys.session(ns, f"t{thread}"), "formed_turns")
        return sum(int(value or 0) for value in await pipe.execute())


async def killed_mid_batch(
    client: redis.asyncio.Redis, url: str, ns: str, threads: int, tmp_path: Path
) -> bool:
    """Starts a worker, freezes it (SIGSTOP) once it formed some turns, and
    kills it; whether it had formed some but not all, and still held
    unacknowledged formation entries."""
    total = threads * EVICTED
    worker = worker_process(url, tmp_path, "--job-claim-idle", "1")
    try:
        deadline = time.monotonic() + WORKER_START_S
        while not await formed_turns(client, ns, threads):
            assert worker.poll() is None, "memrpc worker exited"
            assert time.monotonic() < deadline, "the worker never formed a memory"
            await asyncio.sleep(0.005)
        worker.send_signal(signal.SIGSTOP)
        formed = await formed_turns(client, ns, threads)
        group = await summary_group(url, ns, GROUP)
        return 0 < formed < total and group is not None and group["pending"] > 0
    finally:
        await end_process(worker, signal.SIGKILL)


async def test_a_worker_killed_mid_batch_forms_nothing_twice(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    port = free_port()
    server = serve_process(own_redis.url, port, tmp_path, "--jobs=false")
    client = redis.asyncio.from_url(own_redis.url)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=CHANNEL_OPTIONS) as chan:
            await until_serving(server, chan)
            stub = working_memory_pb2_grpc.WorkingMemoryStub(chan)
            settings = namespace_settings_pb2_grpc.NamespacesStub(chan)
            for attempt in range(ATTEMPTS):
                ns, threads = f"crash{attempt}", THREADS * 2**attempt
                # Exact texts only: a chunk formed twice is a hit, not a
                # near-duplicate of another chunk's episode.
                await settings.UpdateNamespaceSettings(
                    npb.UpdateNamespaceSettingsRequest(
                        namespace=ns,
                        settings=npb.NamespaceSettings(
                            memories=npb.MemoryDefaults(dedup_max_distance=0.0)
                        ),
                        update_mask=field_mask_pb2.FieldMask(paths=["memories.dedup_max_distance"]),
                    )
                )
                # The backlog is there before any worker runs.
                ids = await asyncio.gather(*(append_backlog(stub, ns, t) for t in range(threads)))
                if await killed_mid_batch(client, own_redis.url, ns, threads, tmp_path):
                    break
            else:
                pytest.fail(
                    f"the worker formed the whole backlog before it was stopped, {ATTEMPTS} times"
                )
            second = worker_process(own_redis.url, tmp_path, "--job-claim-idle", "1")
            try:
                deadline = time.monotonic() + WORKER_START_S
                while (
                    (group := await summary_group(own_redis.url, ns, GROUP)) is None
                    or (group["pending"] or group["lag"])
                    or await formed_turns(client, ns, threads) < threads * EVICTED
                ):
                    assert second.poll() is None, "memrpc worker exited"
                    assert time.monotonic() < deadline, f"not drained: {group}"
                    await asyncio.sleep(0.05)
            finally:
                await end_process(second, signal.SIGTERM)
            assert second.returncode == 0
            ltm = long_term_memory_pb2_grpc.LongTermMemoryStub(chan)
            memories = await list_all(ltm, ns, page_size=100)
    finally:
        await end_process(server, signal.SIGTERM)
        await client.aclose()

    check_memories(memories, ids)


def check_memories(memories: list[lpb.Memory], ids: list[list[str]]) -> None:
    """Every evicted turn of every thread (`ids[thread]`, its event ids in
    order) in exactly one memory, each a chunk of its own thread formed once,
    its text made of the chunk's sentences. (Event ids are a thread's: two
    threads' logs may hold the same ids.)"""
    evicted = {(t, event) for t, thread_ids in enumerate(ids) for event in thread_ids[:EVICTED]}
    formed = [(int(m.thread_id[1:]), event) for m in memories for event in m.source_event_ids]
    assert len(memories) == len(ids) * EVICTED // PER_MEMORY
    assert len(formed) == len(set(formed)), "a turn formed twice"
    assert set(formed) == evicted
    for memory in memories:
        sources = list(memory.source_event_ids)
        thread = int(memory.thread_id[1:])
        # One chunk: consecutive turns of its own thread, in order.
        start = ids[thread].index(sources[0])
        assert start % PER_MEMORY == 0
        assert sources == ids[thread][start : start + PER_MEMORY]
        assert memory.hit_count == 1, "a chunk written twice"
        assert (memory.user_id, memory.kind, memory.source) == (
            USER,
            lpb.MEMORY_KIND_EPISODIC,
            lpb.MEMORY_SOURCE_FORMATION,
        )
        assert memory.start_time.ToMilliseconds() == event_ms(sources[0])
        assert memory.end_time.ToMilliseconds() == event_ms(sources[-1])
        said = " ".join(content(thread, start + i) for i in range(PER_MEMORY))
        lines = memory.text.splitlines()
        assert lines
        for line in lines:
            role, _, sentence = line.partition(": ")
            assert role == "user", line
            assert sentence in said, (line, said)
