"""What serving from a Redis Cluster costs a call: two `memrpc serve`, one
on one embedded Redis, one on a local cluster of 3 primaries of the same
server (`tests/redis_cluster.py`), measured side by side.

```sh
.venv/bin/python -m bench.cluster --calls 500
```

Both hold the same memories (`--memories`, embeddings given, so no model
time) in `--namespaces` namespaces, spread over the cluster's primaries by
their slots. Then:

- **One at a time**: `SearchMemories` (a vector, in a namespace taken in
  turn), `CreateMemories` (one memory, its embedding given),
  `ListMemories` (a page of 20) and `AppendEvents` (one event), `--calls`
  each, the two servers' calls interleaved; p50 and p99 of each, and the
  ratio. On a cluster each search runs in `lua/index_query.lua`, which
  reads its hits' fields itself (`store/memory_indexes.py`).
- **Jobs**: both serve with their background jobs unless `--no-jobs`: a
  job runner on a cluster reads each slot's feeds apart, so every event
  appended wakes reads on every slot in use (`jobs/feed_reads.py`).
- **Concurrent**: `--concurrency` callers of `SearchMemories`, `--calls`
  calls in all, against each server in turn: calls per second, p50, p99.
  The cluster spreads the namespaces over 3 Redis processes; on this
  2-core machine they share the cores with the server and the callers.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Sequence
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from tests.redis_cluster import LocalCluster

from bench.measure import Call, compared_line, concurrently, interleaved, rate_line
from bench.scale_data import unit_vectors
from bench.servers import start_memrpc, start_redis
from memrpc.v1 import event_log_pb2 as epb
from memrpc.v1 import long_term_memory_pb2 as lpb
from memrpc.v1.event_log_pb2_grpc import EventLogStub
from memrpc.v1.long_term_memory_pb2_grpc import LongTermMemoryStub

TARGETS = ("one", "cluster")
# Memories per CreateMemories call while loading.
LOAD_BATCH = 50


def calls_of(
    channel: grpc.aio.Channel, namespaces: Sequence[str], vectors: np.ndarray
) -> dict[str, Call]:
    """The measured calls on `channel`, each of a number (for distinct
    texts, and the namespace it takes in turn)."""
    log, ltm = EventLogStub(channel), LongTermMemoryStub(channel)

    def ns(number: int) -> str:
        return namespaces[number % len(namespaces)]

    def search(number: int) -> Awaitable[Any]:
        vector = lpb.Vector(values=vectors[number % len(vectors)].tolist())
        return ltm.SearchMemories(lpb.SearchMemoriesRequest(namespace=ns(number), vector=vector))

    def create(number: int) -> Awaitable[Any]:
        memory = lpb.MemoryInput(
            text=f"measured fact {number}", embedding=vectors[-1 - number % len(vectors)].tolist()
        )
        request = lpb.CreateMemoriesRequest(
            namespace=ns(number), memories=[memory], dedup_max_distance=0.0
        )
        return ltm.CreateMemories(request)

    def listing(number: int) -> Awaitable[Any]:
        return ltm.ListMemories(lpb.ListMemoriesRequest(namespace=ns(number), page_size=20))

    def append(number: int) -> Awaitable[Any]:
        event = epb.EventInput(type="note", data=f"event {number}".encode())
        return log.AppendEvents(
            epb.AppendEventsRequest(namespace=ns(number), thread_id="t", events=[event])
        )

    return {
        "SearchMemories": search,
        "CreateMemories": create,
        "ListMemories": listing,
        "AppendEvents": append,
    }


async def load(
    channel: grpc.aio.Channel, namespaces: Sequence[str], vectors: np.ndarray, memories: int
) -> None:
    """`memories` memories, spread over `namespaces`, their embeddings given."""
    ltm = LongTermMemoryStub(channel)
    for first in range(0, memories, LOAD_BATCH):
        numbers = range(first, min(memories, first + LOAD_BATCH))
        items = [
            lpb.MemoryInput(text=f"stored fact {n}", embedding=vectors[n % len(vectors)].tolist())
            for n in numbers
        ]
        request = lpb.CreateMemoriesRequest(
            namespace=namespaces[first // LOAD_BATCH % len(namespaces)],
            memories=items,
            dedup_max_distance=0.0,
        )
        await ltm.CreateMemories(request)


async def bench(
    count: int, concurrency: int, memories: int, namespace_count: int, *, jobs: bool
) -> None:
    vectors = unit_vectors(np.random.default_rng(5), 2000)
    namespaces = [f"bench{number}" for number in range(namespace_count)]
    with tempfile.TemporaryDirectory(prefix="mrclu-") as work_dir:
        work = Path(work_dir)
        one = start_redis(work / "one")
        servers = {}
        try:
            async with LocalCluster(primaries=3, replicas=0) as cluster:
                seeds = ",".join(node.address for node in cluster.primaries())
                urls = {"one": one.url, "cluster": f"redis+cluster://{seeds}"}
                for target in TARGETS:
                    (work / f"memrpc-{target}").mkdir()
                    servers[target] = await start_memrpc(
                        urls[target],
                        work / f"memrpc-{target}",
                        log_level="WARNING",
                        extra_args=[] if jobs else ["--jobs", "false"],
                    )
                channels = {
                    target: grpc.aio.insecure_channel(server.target)
                    for target, server in servers.items()
                }
                for target in TARGETS:
                    await load(channels[target], namespaces, vectors, memories)
                calls = {
                    target: calls_of(channels[target], namespaces, vectors) for target in TARGETS
                }
                for target in TARGETS:  # warm up: connections, scripts, the indexes
                    for call in calls[target].values():
                        for number in range(2 * namespace_count):
                            await call(count + number)
                print(
                    f"{memories} memories in {namespace_count} namespaces; one at a time"
                    f" ({count} calls each, interleaved; ms):"
                )
                for rpc, by_target in (await interleaved(calls, count)).items():
                    print(compared_line(rpc, by_target))
                print(f"SearchMemories, {concurrency} callers, {count} calls:")
                for target in TARGETS:
                    found = await concurrently(calls[target]["SearchMemories"], count, concurrency)
                    print(rate_line(target, found))
                for channel in channels.values():
                    await channel.close()
        finally:
            for server in servers.values():
                server.stop(10.0)
            one.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=500, help="calls of each kind and target")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent searchers")
    parser.add_argument("--memories", type=int, default=3000, help="memories loaded first")
    parser.add_argument("--namespaces", type=int, default=30, help="namespaces they spread over")
    parser.add_argument(
        "--no-jobs", action="store_true", help="serve without the background jobs (--jobs false)"
    )
    args = parser.parse_args(argv)
    asyncio.run(
        bench(args.calls, args.concurrency, args.memories, args.namespaces, jobs=not args.no_jobs)
    )


if __name__ == "__main__":
    main()
