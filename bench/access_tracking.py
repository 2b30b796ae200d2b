"""What access tracking costs a search (`memrpc.access_recorder`): the
latency of a search with the recorder off and on, and what its background
writes cost Redis.

```sh
.venv/bin/python -m bench.access_tracking --memories 5000 --blocks 10 --block 500
```

An embedded Redis of its own, `--memories` memories with random unit
vectors in one namespace, then searches of them as `SearchMemories` runs
them (`LongTermStore.search`, limit 10, any distance), in blocks of
`--block` searches that take turns, recording off then on (ABAB...), so
that drift on a shared machine falls on both. In an "on" block a recorder
writes in the background as in a server (every second: make a block last
longer than that); what it still holds at the block's end is written
before the next block, untimed, so an "off" block runs with no writes.
Two workloads:

- **recurring**: queries drawn from 50 fixed ones, so the same memories
  come back (an agent's recurring topics);
- **random**: a new random query each time, so every search returns 10
  memories not written yet: the recorder's worst case.

Reported per workload: the p50 and p99 of each arm, in ms, the matches
recorded and dropped, and the memories still waiting at the ends of the
blocks (summed); then the script calls of both workloads, the
memories they wrote and their Redis time (`INFO commandstats`) per call and
per memory.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.report import write_json
from memrpc import metrics
from memrpc.access_recorder import AccessRecorder
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.store.access import Access, AccessStore
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_index import MemoryFilter
from memrpc.store.redis_mux import RedisMux
from memrpc.store.script_args import MemoryAccess

NS = "bench"
DIM = 384
LIMIT = 10
RECURRING_QUERIES = 50
# Memories per create call while seeding.
SEED_CHUNK = 100


class _CountingStore(AccessStore):
    """The access store, counting the memories it is asked to write."""

    memories = 0

    async def write(self, ns: str, accesses: Sequence[Access]) -> int:
        _CountingStore.memories += len(accesses)
        return await super().write(ns, accesses)


def _unit(rng: np.random.Generator, count: int) -> Any:
    vectors = rng.standard_normal((count, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _ms(samples: list[float], quantile: float) -> float:
    return round(sorted(samples)[int(quantile * (len(samples) - 1))] * 1000, 3)


async def _script_stats(mux: RedisMux) -> tuple[int, int]:
    """The calls of the access script so far, and their Redis time in µs."""
    info = (await mux.execute("INFO", "commandstats")).decode()
    for line in info.splitlines():
        if line.startswith("cmdstat_evalsha:"):
            fields = dict(part.split("=") for part in line.split(":", 1)[1].split(","))
            return int(fields["calls"]), int(fields["usec"])
    return 0, 0


async def _workload(
    store: LongTermStore, mux: RedisMux, queries: Any, rng: np.random.Generator, args: Any
) -> dict[str, Any]:
    recorded = metrics.ACCESSES_RECORDED._value.get()
    dropped = metrics.ACCESSES_DROPPED._value.get()
    arms: dict[str, list[float]] = {"off": [], "on": []}
    waiting = 0
    for block in range(args.blocks):
        arm = "on" if block % 2 else "off"
        recorder = AccessRecorder(_CountingStore(mux))
        if arm == "on":
            recorder.start()
        for _ in range(args.block):
            query = queries[rng.integers(len(queries))] if queries is not None else _unit(rng, 1)[0]
            started = time.perf_counter()
            found = await store.search(NS, query, MemoryFilter(), limit=LIMIT, max_distance=2.0)
            if arm == "on":
                recorder.record(NS, (match.memory.id for match in found))
            arms[arm].append(time.perf_counter() - started)
        # What waits is written before the next block (untimed): an "off"
        # block has no writes of the recorder under way.
        waiting += recorder.pending
        await recorder.close(60.0)
    result: dict[str, Any] = {
        f"{arm}_{name}_ms": _ms(samples, quantile)
        for arm, samples in arms.items()
        for name, quantile in (("p50", 0.5), ("p99", 0.99))
    }
    result["recorded"] = int(metrics.ACCESSES_RECORDED._value.get() - recorded)
    result["dropped"] = int(metrics.ACCESSES_DROPPED._value.get() - dropped)
    result["waiting_at_block_ends"] = waiting
    return result


async def run(args: Any) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    with tempfile.TemporaryDirectory() as data:
        redis = EmbeddedRedis(Path(data))
        await redis.astart()
        mux = RedisMux(redis.url)
        try:
            store = LongTermStore(mux, dim=DIM)
            await store.ensure_index()
            vectors = _unit(rng, args.memories)
            for first in range(0, args.memories, SEED_CHUNK):
                items = [
                    NewMemory(text=f"memory {i}", embedding=vectors[i])
                    for i in range(first, min(first + SEED_CHUNK, args.memories))
                ]
                await store.create(NS, items, max_distance=0.0)
            await mux.execute("CONFIG", "RESETSTAT")
            metrics.enable()
            results: dict[str, Any] = {}
            for name, queries in (("recurring", _unit(rng, RECURRING_QUERIES)), ("random", None)):
                results[name] = await _workload(store, mux, queries, rng, args)
            calls, usec = await _script_stats(mux)
            written = _CountingStore.memories
            results["writes"] = {
                "script": MemoryAccess.LUA,
                "calls": calls,
                "redis_ms_per_call": round(usec / calls / 1000, 3) if calls else 0.0,
                "memories_written": written,
                "redis_ms_per_memory": round(usec / written / 1000, 3) if written else 0.0,
            }
            return results
        finally:
            metrics.disable()
            await mux.aclose()
            await redis.astop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=5000, help="memories searched")
    parser.add_argument("--blocks", type=int, default=10, help="blocks per workload (even)")
    parser.add_argument("--block", type=int, default=500, help="searches per block")
    parser.add_argument("--out", type=Path, help="write the results as JSON to this file")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    for name in ("recurring", "random"):
        case = results[name]
        print(
            f"{name:9} off: p50 {case['off_p50_ms']:7.3f} ms p99 {case['off_p99_ms']:7.3f} ms | "
            f"on: p50 {case['on_p50_ms']:7.3f} ms p99 {case['on_p99_ms']:7.3f} ms | "
            f"recorded {case['recorded']} dropped {case['dropped']} "
            f"waiting at block ends {case['waiting_at_block_ends']}"
        )
    writes = results["writes"]
    print(
        f"writes: {writes['calls']} calls, {writes['redis_ms_per_call']} ms of Redis time each, "
        f"{writes['memories_written']} memories, {writes['redis_ms_per_memory']} ms each"
    )
    if args.out:
        write_json(results, args.out)


if __name__ == "__main__":
    main()
