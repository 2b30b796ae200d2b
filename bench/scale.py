"""Long-term memory at scale: insert rate and vector-search latency at growing
sizes, with per-namespace (and per-user) filtering, against raw FT.SEARCH.

Starts `memrpc serve` (embedded Redis, a temporary data dir) unless given
`--address` and `--redis-url`. Loads random unit vectors through
CreateMemories in batches of 100, spread over namespaces and users, up to
each size in turn; at each size measures SearchMemories by vector (filtered
by namespace, and by namespace and user) one call at a time, and the same
FT.SEARCH the server sends, straight from redis-py.

    .venv/bin/python -m bench.scale --sizes 10k,100k --out scale.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import redis.asyncio

from bench.report import machine_info
from bench.servers import add_target_arguments, given_or_embedded_memrpc, parse_with_target
from bench.stats import percentiles_ms
from memrpc.store.memory_index import DISTANCE, INDEX, MEMORY_PATHS, MemoryFilter, filter_query, knn
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import long_term_memory_pb2_grpc

DIM = 384  # all-MiniLM-L6-v2, the server's default model
BATCH = 100  # the most memories one CreateMemories takes
LIMIT = 10
CALL_TIMEOUT_S = 60.0


def parse_count(text: str) -> int:
    """`10k`, `1M` or `2500` as an integer."""
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * scale)


def unit_vectors(rng: np.random.Generator, count: int) -> np.ndarray:
    """`count` random unit vectors of `DIM` float32 values."""
    vectors = rng.standard_normal((count, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


@dataclass
class Layout:
    """Where memory number i goes: namespaces take turns by batch, users by item."""

    namespaces: int
    users: int
    run: str = field(default_factory=lambda: os.urandom(4).hex())

    def namespace(self, index: int) -> str:
        return f"scale-{self.run}-{index % self.namespaces}"

    def user(self, index: int) -> str:
        return f"user-{index % self.users}"


async def load(
    stub: long_term_memory_pb2_grpc.LongTermMemoryStub,
    layout: Layout,
    start: int,
    stop: int,
    *,
    concurrency: int,
    dedup: float | None,
    seed: int,
) -> dict[str, Any]:
    """Creates memories number `start` to `stop` - 1; the insert rate."""
    rng = np.random.default_rng(seed)
    batches = list(range(start, stop, BATCH))
    created = 0

    async def insert(first: int) -> None:
        nonlocal created
        count = min(BATCH, stop - first)
        vectors = unit_vectors(rng, count)
        request = ltm.CreateMemoriesRequest(
            namespace=layout.namespace(first // BATCH),
            memories=[
                ltm.MemoryInput(
                    text=f"memory {first + i}",
                    user_id=layout.user(first + i),
                    embedding=vectors[i].tolist(),
                )
                for i in range(count)
            ],
        )
        if dedup is not None:
            request.dedup_max_distance = dedup
        reply = await stub.CreateMemories(request, timeout=CALL_TIMEOUT_S)
        created += sum(r.outcome == ltm.CREATE_OUTCOME_CREATED for r in reply.results)

    began = time.perf_counter()
    await run_bounded(insert, batches, concurrency)
    elapsed = time.perf_counter() - began
    return {
        "memories": stop - start,
        "created": created,
        "seconds": elapsed,
        "per_second": (stop - start) / elapsed,
    }


async def run_bounded(
    work: Callable[[int], Awaitable[None]], items: Sequence[int], concurrency: int
) -> None:
    """Runs `work` on every item, at most `concurrency` at a time."""
    queue = list(reversed(items))

    async def worker() -> None:
        while queue:
            await work(queue.pop())

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def measure_search(
    stub: long_term_memory_pb2_grpc.LongTermMemoryStub,
    client: redis.asyncio.Redis,
    layout: Layout,
    *,
    by_user: bool,
    queries: int,
    warmup: int,
    seed: int,
) -> dict[str, Any]:
    """SearchMemories by vector, and the same FT.SEARCH from redis-py, one
    call at a time, alternating; latency percentiles of each."""
    rng = np.random.default_rng(seed)
    vectors = unit_vectors(rng, warmup + queries)
    picks = random.Random(seed)
    rpc_s: list[float] = []
    raw_s: list[float] = []
    hits = 0
    for n, vector in enumerate(vectors):
        ns = layout.namespace(picks.randrange(layout.namespaces))
        user = layout.user(picks.randrange(layout.users))
        request = ltm.SearchMemoriesRequest(
            namespace=ns,
            vector=ltm.Vector(values=vector.tolist()),
            limit=LIMIT,
            max_distance=2.0,  # random vectors are far apart: return every match
        )
        if by_user:
            request.filter.user_ids.append(user)
        flt = MemoryFilter(user_ids=(user,) if by_user else ())
        raw = (
            "FT.SEARCH", INDEX, knn(filter_query(ns, int(time.time() * 1000), flt), LIMIT),
            "PARAMS", 2, "v", vector.tobytes(),
            "SORTBY", DISTANCE,
            "RETURN", len(MEMORY_PATHS) + 1, *MEMORY_PATHS, DISTANCE,
            "LIMIT", 0, LIMIT,
            "DIALECT", 3,
        )  # fmt: skip
        began = time.perf_counter()
        reply = await stub.SearchMemories(request, timeout=CALL_TIMEOUT_S)
        middle = time.perf_counter()
        await client.execute_command(*raw)
        ended = time.perf_counter()
        if n >= warmup:
            rpc_s.append(middle - began)
            raw_s.append(ended - middle)
            hits += len(reply.matches)
    rpc = percentiles_ms(rpc_s)
    raw_stats = percentiles_ms(raw_s)
    return {
        "filter": "namespace+user" if by_user else "namespace",
        "matches_per_query": hits / queries,
        "search_memories": rpc,
        "raw_ft_search": raw_stats,
        "p50_ratio": rpc["p50_ms"] / raw_stats["p50_ms"],
    }


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    sizes = sorted(parse_count(size) for size in args.sizes.split(","))
    layout = Layout(args.namespaces, args.users)
    async with given_or_embedded_memrpc(
        args.address, args.redis_url, workers=args.workers
    ) as target:
        client = target.redis
        results: dict[str, Any] = {
            "benchmark": "scale",
            "machine": machine_info(await client.info("server")),
            "settings": {
                "sizes": sizes,
                "namespaces": args.namespaces,
                "users_per_namespace": args.users,
                "batch": BATCH,
                "insert_concurrency": args.concurrency,
                "dedup_max_distance": args.dedup,
                "queries": args.queries,
                "warmup": args.warmup,
                "limit": LIMIT,
                "workers": args.workers,
            },
            "sizes": [],
        }
        async with grpc.aio.insecure_channel(target.address) as channel:
            stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
            loaded = 0
            for size in sizes:
                print(f"loading {loaded:,} -> {size:,} memories ...", file=sys.stderr, flush=True)
                insert = await load(
                    stub,
                    layout,
                    loaded,
                    size,
                    concurrency=args.concurrency,
                    dedup=args.dedup,
                    seed=args.seed + size,
                )
                loaded = size
                searches = [
                    await measure_search(
                        stub,
                        client,
                        layout,
                        by_user=by_user,
                        queries=args.queries,
                        warmup=args.warmup,
                        seed=args.seed + size + by_user,
                    )
                    for by_user in (False, True)
                ]
                info = await client.info("memory")
                results["sizes"].append(
                    {
                        "memories": size,
                        "per_namespace": size // args.namespaces,
                        "insert": insert,
                        "search": searches,
                        "redis_used_memory_bytes": info["used_memory"],
                    }
                )
                print_size(results["sizes"][-1])
    return results


def print_size(row: dict[str, Any]) -> None:
    """One size's figures as table rows."""
    insert = row["insert"]
    print(
        f"\n{row['memories']:>9,} memories ({row['per_namespace']:,} per namespace), "
        f"Redis {row['redis_used_memory_bytes'] / 2**20:,.0f} MiB; "
        f"insert {insert['per_second']:,.0f}/s "
        f"({insert['memories']:,} in {insert['seconds']:.1f} s)"
    )
    print(f"  {'filter':<16}{'call':<16}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'matches':>9}")
    for search in row["search"]:
        for name in ("search_memories", "raw_ft_search"):
            stats = search[name]
            print(
                f"  {search['filter']:<16}{name:<16}{stats['p50_ms']:>9.2f}"
                f"{stats['p90_ms']:>9.2f}{stats['p99_ms']:>9.2f}{search['matches_per_query']:>9.1f}"
            )
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description="Long-term memory at scale: insert rate and filtered vector-search "
        "latency at each size, against raw FT.SEARCH.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--sizes", default="10k,100k", help="comma-separated sizes (1M: long)")
    parser.add_argument("--namespaces", type=int, default=10, help="namespaces to spread over")
    parser.add_argument("--users", type=int, default=10, help="users per namespace")
    parser.add_argument("--concurrency", type=int, default=4, help="CreateMemories in flight")
    parser.add_argument(
        "--dedup",
        type=float,
        default=None,
        help="dedup_max_distance of the inserts (unset: the server's default, 0.20; "
        "0: exact-text check only)",
    )
    parser.add_argument("--queries", type=int, default=1000, help="searches per size and filter")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured searches first")
    parser.add_argument("--workers", type=int, default=1, help="server processes to start")
    add_target_arguments(parser)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parse_with_target(parser, argv)
    results = asyncio.run(bench(args))
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
