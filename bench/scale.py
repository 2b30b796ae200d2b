"""Long-term memory at scale: one namespace loaded towards a million memories,
resumably, then its cost and search figures.

Starts an embedded Redis in `--data-dir` (kept: a second run with the same
arguments continues the load) or in a temporary directory, and `memrpc serve`
on it, unless given `--address` and `--redis-url`. Loads memories through
CreateMemories (100 per call, the server's default dedup, users of
`--scope` memories each), ~150-character texts with metadata and random unit
vectors rebuilt from `--seed`, in chunks of `--chunk`; the progress is a
Redis key written after each chunk, and a run stops between chunks once
`--max-seconds` would pass (one chunk at least). Once every memory is in:
bytes per memory, insert rate, SearchMemories p50/p99 (vector and hybrid,
by user and namespace-wide), HNSW recall@10 against exact KNN in numpy
(raw FT.SEARCH at several EF_RUNTIME), AOF size and the Redis restart time.

    .venv/bin/python -m bench.scale --memories 100k --out scale.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import grpc
import numpy as np
import redis.asyncio

from bench import report  # the module: bench.report shows this section (`lines`)
from bench.corpus import query_text
from bench.scale_data import (
    BATCH,
    NUMBER_KEY,
    Layout,
    exact_neighbours,
    parse_count,
    unit_vectors,
)
from bench.servers import ServerProcess, add_target_arguments, parse_with_target, start_memrpc
from bench.stats import percentiles_ms
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE, VectorType
from memrpc.store.memory_index import INDEX, ORIGINAL_FIELD, MemoryFilter, filter_query, knn
from memrpc.v1 import long_term_memory_pb2 as ltm
from memrpc.v1 import long_term_memory_pb2_grpc

NAMESPACE = "scale"
PROGRESS_KEY = "bench:scale:progress"  # the load's progress, next to the data it counts
LIMIT = 10
CALL_TIMEOUT_S = 60.0
# How long the bench's Redis may take to load its data: 1M memories took
# over 30 min here (the HNSW graph is rebuilt as the AOF is replayed).
RESTART_TIMEOUT_S = 7200.0
REDIS_DIR = "memrpc-data"  # in the work dir, where `memrpc serve` keeps its embedded Redis
EF_RUNTIMES = (10, 50, 200, 1000)  # 10: RediSearch's default; 50: the index's (HNSW_EF_RUNTIME)
# The sections of `make bench` (bench/run.py): one load of each vector type.
SECTIONS = {DEFAULT_VECTOR_TYPE: "scale", VectorType.FLOAT32: "scale_float32"}
SEARCH_KINDS = (
    ("vector", "namespace"),
    ("vector", "user"),
    ("hybrid", "namespace"),
    ("hybrid", "user"),
)


@dataclass(frozen=True)
class Sizes:
    """A run: `memories` in one namespace, users of `scope` memories, loaded
    `chunk` at a time, `concurrency` calls in flight; `queries` searches of
    each kind after `warmup`, `recall_queries` for recall@10."""

    memories: int
    scope: int
    chunk: int
    concurrency: int
    queries: int
    warmup: int
    recall_queries: int


FULL = Sizes(100_000, 10_000, 10_000, 4, queries=200, warmup=20, recall_queries=100)
SMOKE = Sizes(300, 100, 300, 4, queries=10, warmup=2, recall_queries=5)


class Target(NamedTuple):
    """The memrpc measured, a client of its Redis, and its process and
    Redis when this run started them."""

    address: str
    redis: redis.asyncio.Redis
    server: ServerProcess | None
    redis_server: EmbeddedRedis | None


@contextlib.asynccontextmanager
async def scale_target(
    address: str | None,
    redis_url: str | None,
    data_dir: Path | None,
    vector_type: VectorType = DEFAULT_VECTOR_TYPE,
) -> AsyncIterator[Target]:
    """The given memrpc, or one (storing `vector_type` vectors) on an
    embedded Redis in `data_dir` (an existing absolute path; kept) or in a
    temporary directory (removed), both stopped on exit. The Redis is
    started here, given all the time its AOF takes to load (`memrpc serve`
    gives its own embedded Redis `--redis-start-timeout`, more while the
    load advances)."""
    if address is not None and redis_url is not None:
        client = redis.asyncio.from_url(redis_url)
        try:
            yield Target(address, client, None, None)
        finally:
            await client.aclose()
        return
    with contextlib.ExitStack() as stack:
        if data_dir is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mrscale-")))
        else:
            work = data_dir
        redis_server = EmbeddedRedis(work / REDIS_DIR, start_timeout=RESTART_TIMEOUT_S)
        await redis_server.astart()
        stack.callback(redis_server.stop, 60.0)
        server = await start_memrpc(
            redis_server.url,
            work,
            log_level="WARNING",
            extra_args=["--vector-type", vector_type.value],
        )
        stack.callback(server.stop, 60.0)
        client = redis.asyncio.from_url(redis_server.url)
        try:
            yield Target(server.target, client, server, redis_server)
        finally:
            await client.aclose()


async def read_progress(client: redis.asyncio.Redis, settings: dict[str, Any]) -> dict[str, Any]:
    """The load's progress in this Redis (a new one if none); raises
    SystemExit if it was made with other settings."""
    raw = await client.get(PROGRESS_KEY)
    if raw is None:
        info = await client.info("memory")
        return {
            "settings": settings,
            "loaded": 0,
            "baseline_used_memory": info["used_memory"],
            "chunks": [],
        }
    progress: dict[str, Any] = json.loads(raw)
    if progress["settings"] != settings:
        raise SystemExit(
            f"bench.scale: this Redis holds a load made with {progress['settings']}, "
            f"not {settings}: give the same arguments, or another --data-dir"
        )
    return progress


async def load_chunk(
    stub: long_term_memory_pb2_grpc.LongTermMemoryStub,
    layout: Layout,
    start: int,
    stop: int,
    concurrency: int,
) -> int:
    """Creates memories number `start` to `stop` - 1 (starting at a batch
    boundary, so a chunk cut short is redone whole: its memories come back
    as duplicates); how many were created."""
    queue = list(reversed(range(start // BATCH, -(-stop // BATCH))))
    created = 0

    async def worker() -> None:
        nonlocal created
        while queue:
            batch = queue.pop()
            first = batch * BATCH
            vectors = layout.batch_vectors(batch)
            request = ltm.CreateMemoriesRequest(
                namespace=layout.namespace,
                memories=[
                    ltm.MemoryInput(
                        text=layout.text(n),
                        user_id=layout.user(n),
                        metadata=layout.metadata(n),
                        embedding=vectors[n - first].tolist(),
                    )
                    for n in range(first, min(first + BATCH, stop))
                ],
            )
            reply = await stub.CreateMemories(request, timeout=CALL_TIMEOUT_S)
            created += sum(r.outcome == ltm.CREATE_OUTCOME_CREATED for r in reply.results)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return created


async def load(
    stub: long_term_memory_pb2_grpc.LongTermMemoryStub,
    client: redis.asyncio.Redis,
    layout: Layout,
    progress: dict[str, Any],
    sizes: Sizes,
    *,
    max_seconds: float,
) -> None:
    """Loads chunk after chunk until every memory is in, or until the next
    chunk (as long as the last) would end after `max_seconds`; the
    progress written to Redis after each chunk."""
    began = time.monotonic()
    last_s = None
    while progress["loaded"] < sizes.memories:
        if last_s is not None and time.monotonic() - began + last_s > max_seconds:
            break
        start = progress["loaded"]
        stop = min(sizes.memories, start + sizes.chunk)
        chunk_began = time.monotonic()
        created = await load_chunk(stub, layout, start, stop, sizes.concurrency)
        last_s = time.monotonic() - chunk_began
        progress["loaded"] = stop
        progress["chunks"].append({"loaded": stop, "created": created, "seconds": last_s})
        await client.set(PROGRESS_KEY, json.dumps(progress))
        print(
            f"loaded {stop:,} of {sizes.memories:,} ({(stop - start) / last_s:,.0f}/s)",
            file=sys.stderr,
            flush=True,
        )


class Searcher:
    """Searches of one kind, by SearchMemories, and by raw FT.SEARCH with an
    EF_RUNTIME; each match as its memory number."""

    def __init__(
        self,
        stub: long_term_memory_pb2_grpc.LongTermMemoryStub,
        client: redis.asyncio.Redis,
        vector_type: VectorType,
    ) -> None:
        self.stub = stub
        self.client = client
        self.vector_type = vector_type
        self.numbers: dict[bytes, int] = {}  # document key -> memory number

    async def rpc(self, kind: str, user: str | None, vector: np.ndarray, text: str) -> list[int]:
        request = ltm.SearchMemoriesRequest(namespace=NAMESPACE, limit=LIMIT, max_distance=2.0)
        if kind == "vector":
            request.vector.values.extend(vector.tolist())
        else:
            request.text = text
            request.mode = ltm.RECALL_MODE_HYBRID
        if user is not None:
            request.filter.user_ids.append(user)
        reply = await self.stub.SearchMemories(request, timeout=CALL_TIMEOUT_S)
        return [int(m.memory.metadata[NUMBER_KEY]) for m in reply.matches]

    async def raw(self, user: str | None, vector: np.ndarray, ef_runtime: int) -> list[bytes]:
        """The document keys FT.SEARCH finds with `ef_runtime` (sent as the server would)."""
        flt = MemoryFilter(user_ids=(user,) if user is not None else ())
        query = knn(
            filter_query(NAMESPACE, int(time.time() * 1000), flt),
            LIMIT,
            ORIGINAL_FIELD,
            ef_runtime=ef_runtime,
        )
        reply = await self.client.execute_command(
            "FT.SEARCH", INDEX, query, "PARAMS", 2, "v", self.vector_type.blob(vector),
            "NOCONTENT", "LIMIT", 0, LIMIT, "DIALECT", 3,
        )  # fmt: skip
        return [row[b"id"] for row in reply[b"results"]]  # RESP3

    async def numbers_of(self, found: list[bytes]) -> list[int]:
        """The memory numbers of document keys."""
        return [await self._number(key) for key in found]

    async def _number(self, key: bytes) -> int:
        """The memory number of a document key, by GetMemory (cached)."""
        if key not in self.numbers:
            memory_id = key.decode().rsplit(":", 1)[1]
            reply = await self.stub.GetMemory(
                ltm.GetMemoryRequest(namespace=NAMESPACE, memory_id=memory_id),
                timeout=CALL_TIMEOUT_S,
            )
            self.numbers[key] = int(reply.memory.metadata[NUMBER_KEY])
        return self.numbers[key]


async def measure_latency(searcher: Searcher, layout: Layout, sizes: Sizes) -> list[dict[str, Any]]:
    """p50/p99 of SearchMemories of each kind, one call at a time."""
    rng = np.random.default_rng([layout.seed, 1])
    results = []
    for kind, scope in SEARCH_KINDS:
        vectors = unit_vectors(rng, sizes.warmup + sizes.queries)
        samples: list[float] = []
        hits = 0
        for n, vector in enumerate(vectors):
            user = layout.user(n * 7919) if scope == "user" else None
            began = time.perf_counter()
            found = await searcher.rpc(kind, user, vector, query_text(n))
            if n >= sizes.warmup:
                samples.append(time.perf_counter() - began)
                hits += len(found)
        results.append(
            {"kind": kind, "filter": scope, "matches_per_query": hits / sizes.queries}
            | percentiles_ms(samples)
        )
    return results


async def measure_recall(
    searcher: Searcher, layout: Layout, sizes: Sizes, loaded: int
) -> dict[str, Any]:
    """recall@10 of the vector search against exact KNN over the memories'
    vectors (rebuilt from the seed, as loaded), namespace-wide and by user:
    SearchMemories, and raw FT.SEARCH at each of `EF_RUNTIMES` with its p50."""
    queries = unit_vectors(np.random.default_rng([layout.seed, 2]), sizes.recall_queries)
    users = [layout.user(n * 7919) for n in range(len(queries))]
    began = time.perf_counter()
    truth = dict(
        zip(
            ("namespace", "user"),
            exact_neighbours(layout, loaded, queries, users, LIMIT),
            strict=True,
        )
    )
    section: dict[str, Any] = {"queries": len(queries), "exact_knn_s": time.perf_counter() - began}
    for scope, exact in truth.items():
        rows = []
        for ef in (None, *EF_RUNTIMES):
            found: list[set[int]] = []
            samples = []
            for vector, user in zip(queries, users, strict=True):
                who = user if scope == "user" else None
                t0 = time.perf_counter()
                if ef is None:
                    hits = await searcher.rpc("vector", who, vector, "")
                    samples.append(time.perf_counter() - t0)
                else:
                    keys = await searcher.raw(who, vector, ef)
                    samples.append(time.perf_counter() - t0)
                    hits = await searcher.numbers_of(keys)
                found.append(set(hits))
            recall = sum(len(f & e) for f, e in zip(found, exact, strict=True))
            rows.append(
                {
                    "search": "SearchMemories" if ef is None else f"FT.SEARCH EF_RUNTIME {ef}",
                    "recall_at_10": recall / sum(len(e) for e in exact),
                    "p50_ms": percentiles_ms(samples)["p50_ms"],
                }
            )
        section[scope] = rows
    return section


async def measure_restart(target: Target) -> dict[str, Any]:
    """The AOF's size on disk, and how long Redis takes to start on it and
    load it (memrpc stopped first; Redis shut down cleanly)."""
    if target.server is None or target.redis_server is None:
        info = await target.redis.info("persistence")
        return {"aof_bytes": info.get("aof_current_size"), "restart_s": None}
    target.server.stop(60.0)
    redis_server = target.redis_server
    await asyncio.to_thread(redis_server.stop, 60.0)
    aof = sum(p.stat().st_size for p in redis_server.data_dir.rglob("appendonly*") if p.is_file())
    began = time.perf_counter()
    await redis_server.astart()
    restart_s = time.perf_counter() - began
    info = await target.redis.execute_command("FT.INFO", INDEX)
    return {"aof_bytes": aof, "restart_s": restart_s, "num_docs_after": int(info[b"num_docs"])}


async def bench(
    target: Target,
    sizes: Sizes,
    *,
    seed: int,
    max_seconds: float,
    vector_type: VectorType = DEFAULT_VECTOR_TYPE,
    measured: Callable[[dict[str, Any]], None] = lambda section: None,
) -> dict[str, Any]:
    """Loads (or continues); once complete, measures. The report section;
    `measured` gets it before the restart (the longest part, at 1M half an
    hour or more), so that a restart that fails loses nothing else."""
    layout = Layout(NAMESPACE, max(1, sizes.memories // sizes.scope), seed)
    settings = {
        "memories": sizes.memories,
        "scope": sizes.scope,
        "users": layout.users,
        "seed": seed,
        "vector_type": vector_type.value,
    }
    client = target.redis
    section: dict[str, Any] = {
        "settings": settings | {"chunk": sizes.chunk, "concurrency": sizes.concurrency}
    }
    section["machine"] = report.machine_info(await client.info("server"))
    async with grpc.aio.insecure_channel(target.address) as channel:
        stub = long_term_memory_pb2_grpc.LongTermMemoryStub(channel)
        progress = await read_progress(client, settings)
        section["resumed_at"] = progress["loaded"]
        await load(stub, client, layout, progress, sizes, max_seconds=max_seconds)
        section["loaded"] = progress["loaded"]
        if progress["loaded"] < sizes.memories:
            section["status"] = f"partial: {progress['loaded']:,} of {sizes.memories:,} loaded"
            return section
        chunks = progress["chunks"]
        seconds = sum(c["seconds"] for c in chunks)
        section["insert"] = {
            "per_second": progress["loaded"] / seconds,
            "created": sum(c["created"] for c in chunks),
            "seconds": seconds,
            "last_chunk_per_second": sizes.chunk / chunks[-1]["seconds"] if chunks else None,
        }
        used = (await client.info("memory"))["used_memory"]
        section["bytes_per_memory"] = (used - progress["baseline_used_memory"]) / progress["loaded"]
        section["used_memory"] = used
        searcher = Searcher(stub, client, vector_type)
        section["search"] = await measure_latency(searcher, layout, sizes)
        section["recall"] = await measure_recall(searcher, layout, sizes, progress["loaded"])
    measured(section | {"status": "measured; the restart is next"})
    section["aof"] = await measure_restart(target)
    section["status"] = "ok"
    return section


async def measure(
    sizes: Sizes, *, seed: int = 1, vector_type: VectorType = DEFAULT_VECTOR_TYPE
) -> dict[str, Any]:
    """A `scale` section of `make bench`: a fresh server, loaded whole."""
    async with scale_target(None, None, None, vector_type) as target:
        return await bench(
            target, sizes, seed=seed, max_seconds=float("inf"), vector_type=vector_type
        )


def lines(section: dict[str, Any]) -> list[str]:
    """The section as text lines for the report table."""
    vector_type = section.get("settings", {}).get("vector_type", DEFAULT_VECTOR_TYPE.value)
    title = f"Scale (one namespace, {vector_type} vectors)"
    if section.get("status") != "ok":
        return [
            f"{title}: {section.get('status', 'not run')} "
            f"(this run began at {section.get('resumed_at', 0):,})"
        ]
    settings, insert, aof = section["settings"], section["insert"], section["aof"]
    out = [
        f"{title}: {section['loaded']:,} memories, {settings['users']} users of "
        f"{settings['scope']:,}; {section['bytes_per_memory']:,.0f} bytes per memory; "
        f"insert {insert['per_second']:,.0f}/s with dedup ({insert['created']:,} created)",
        f"  {'SearchMemories':<26}{'p50 ms':>9}{'p99 ms':>9}{'matches':>9}",
    ]
    for row in section["search"]:
        name = f"{row['kind']}, by {row['filter']}"
        out.append(
            f"  {name:<26}{row['p50_ms']:>9.2f}{row['p99_ms']:>9.2f}"
            f"{row['matches_per_query']:>9.1f}"
        )
    out.append(
        f"  {'recall@10 (exact KNN)':<26}{'by ns':>9}{'p50 ms':>9}{'by user':>9}{'p50 ms':>9}"
    )
    for ns_row, user_row in zip(
        section["recall"]["namespace"], section["recall"]["user"], strict=True
    ):
        out.append(
            f"  {ns_row['search']:<26}{ns_row['recall_at_10']:>9.3f}{ns_row['p50_ms']:>9.2f}"
            f"{user_row['recall_at_10']:>9.3f}{user_row['p50_ms']:>9.2f}"
        )
    restart = (
        "not measured (external Redis)"
        if aof["restart_s"] is None
        else f"restart {aof['restart_s']:.1f} s"
    )
    out.append(f"  AOF {aof['aof_bytes'] / 2**20:,.1f} MiB; {restart}")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description="Long-term memory at scale in one namespace: a resumable load, then "
        "bytes per memory, insert rate, search latency, recall@10, AOF size and restart time.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--memories", type=parse_count, default=FULL.memories, help="memories to load (1M: long)"
    )
    parser.add_argument(
        "--scope", type=parse_count, default=FULL.scope, help="memories per user (a dedup scope)"
    )
    parser.add_argument("--chunk", type=parse_count, default=FULL.chunk, help="memories per chunk")
    parser.add_argument(
        "--concurrency", type=int, default=FULL.concurrency, help="CreateMemories in flight"
    )
    parser.add_argument("--queries", type=int, default=FULL.queries, help="searches of each kind")
    parser.add_argument("--warmup", type=int, default=FULL.warmup, help="unmeasured searches first")
    parser.add_argument(
        "--recall-queries", type=int, default=FULL.recall_queries, help="queries for recall@10"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=float("inf"),
        help="stop between chunks before this (one chunk at least); run again to continue",
    )
    parser.add_argument("--data-dir", type=Path, help="keep the server's data here (resumable)")
    parser.add_argument(
        "--vector-type",
        type=VectorType,
        choices=list(VectorType),
        default=DEFAULT_VECTOR_TYPE,
        help="the stored vectors' type (the server's --vector-type)",
    )
    add_target_arguments(parser)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results here as JSON")
    args = parse_with_target(parser, argv)
    sizes = Sizes(
        args.memories,
        args.scope,
        args.chunk,
        args.concurrency,
        args.queries,
        args.warmup,
        args.recall_queries,
    )

    data_dir = None if args.data_dir is None else args.data_dir.absolute()
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)

    def write(results: dict[str, Any]) -> None:
        if args.out is not None:
            args.out.write_text(json.dumps(results, indent=2) + "\n")
            print(f"\nwrote {args.out} ({results['status']})", flush=True)

    async def run() -> dict[str, Any]:
        async with scale_target(args.address, args.redis_url, data_dir, args.vector_type) as target:
            return await bench(
                target,
                sizes,
                seed=args.seed,
                max_seconds=args.max_seconds,
                vector_type=args.vector_type,
                measured=write,
            )

    results = asyncio.run(run())
    print("\n".join(lines(results)))
    write(results)


if __name__ == "__main__":
    main()
