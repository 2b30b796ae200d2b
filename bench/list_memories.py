"""What a `ListMemories` page costs, first and deep, and what indexing the
listing's sort keys (`id`, `hit_count`) costs the deduplication hit path.

```sh
.venv/bin/python -m bench.list_memories --memories 10k
```

Each part starts an embedded Redis of its own and fills one namespace with
`--memories` memories (random unit vectors, distinct texts) through
`LongTermStore.create`, 100 a call (a call's memories share their
millisecond).

- **Pages**: `LongTermStore.list_page` (the searches of
  `memory_listing.list_rows` and the read of its memories) of 50 and of
  1,000 memories, in both orders, from the start and from a position 90%
  of the way through the listing (reached by paging); the median and p90
  of `--repeat` calls each; and, to compare, one `FT.AGGREGATE` sorting
  every memory for a page of 50 (how a page was found before).
- **Hit path**: a create whose text repeats a stored memory (the exact-text
  search, then `HINCRBY` of its `hit_count`, which makes Search index
  the document again), on an index without the listing fields (as index v2
  was first deployed) and on the full index: the median and p90 wall time
  of 10 times `--repeat` calls, and the `EVALSHA` Redis time per call from
  `INFO commandstats`.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.scale_data import parse_count, unit_vectors
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.store import keys
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE
from memrpc.store.memory_index import INDEX, MemoryFilter, fields, filter_query
from memrpc.store.memory_listing import Order, Position
from memrpc.store.redis_mux import Arg, RedisMux

DIM = 384
NAMESPACE = "bench"
CREATE_CALL = 100
LISTING_FIELDS = ("id", "hit_count")


async def _fill(store: LongTermStore, count: int) -> list[NewMemory]:
    vectors = unit_vectors(np.random.default_rng(7), count)
    items = [NewMemory(f"memory {i}", vectors[i]) for i in range(count)]
    for first in range(0, count, CREATE_CALL):
        await store.create(NAMESPACE, items[first : first + CREATE_CALL], max_distance=0.2)
    return items


async def _times_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50": statistics.median(times), "p90": times[int(0.9 * (len(times) - 1))]}


async def _indexed(client: RedisMux) -> None:
    while True:
        info = await client.execute("FT.INFO", INDEX)
        if int(info[info.index(b"indexing") + 1]) == 0:
            return
        await asyncio.sleep(0.1)


async def _deep_position(store: LongTermStore, order: Order, count: int) -> Position:
    """The position after the first `count` memories of the listing."""
    after = None
    while count > 0:
        listed = await store.list_page(
            NAMESPACE, MemoryFilter(), order, after, count=min(count, 1000)
        )
        page = listed.memories
        last = page[-1]
        after = Position(last.id, last.hit_count)
        count -= len(page)
    assert after is not None
    return after


async def _with_redis(work: Callable[[RedisMux], Awaitable[None]]) -> None:
    with tempfile.TemporaryDirectory() as data:
        redis = EmbeddedRedis(Path(data), port=0)
        await redis.astart()
        client = RedisMux(redis.url)
        try:
            await work(client)
        finally:
            await client.aclose()
            await redis.astop()


async def pages(memories: int, repeat: int) -> None:
    async def work(client: RedisMux) -> None:
        store = LongTermStore(client, dim=DIM)
        await store.ensure_index()
        await _fill(store, memories)
        print(f"pages at {memories:,} memories (ms, p50 / p90 of {repeat}):")
        for order in Order:
            deep = await _deep_position(store, order, int(memories * 0.9))
            for size in (50, 1000):
                for name, after in (("first", None), ("deep", deep)):
                    page = functools.partial(
                        store.list_page, NAMESPACE, MemoryFilter(), order, after, count=size + 1
                    )
                    times = await _times_ms(page, repeat)
                    print(
                        f"  {order.value:8} page of {size:>5} {name:5}: "
                        f"{times['p50']:7.2f} / {times['p90']:7.2f}"
                    )
        # What a page cost when it was one sort of every memory the filter
        # keeps, for comparison in the same run.
        query = filter_query(NAMESPACE, int(time.time() * 1000), MemoryFilter())
        full_sort: list[Arg] = [
            "FT.AGGREGATE", INDEX, query, "SORTBY", 2, "@id", "DESC", "MAX", 51,
            "LOAD", 1, "@__key", "TIMEOUT", 0, "DIALECT", 3,
        ]  # fmt: skip
        times = await _times_ms(lambda: client.execute(*full_sort), repeat)
        print(f"  one sort of every memory   : {times['p50']:7.2f} / {times['p90']:7.2f}")

    await _with_redis(work)


async def hit_path(memories: int, repeat: int) -> None:
    for label, listing in (("without id, hit_count", False), ("with id, hit_count", True)):

        async def work(client: RedisMux, listing: bool = listing, label: str = label) -> None:
            schema = [
                arg
                for name, args in fields(DIM, DEFAULT_VECTOR_TYPE)
                if listing or name not in LISTING_FIELDS
                for arg in args
            ]
            create: list[Arg] = ["FT.CREATE", INDEX, "ON", "HASH", "PREFIX", 1]
            await client.execute(*create, keys.MEMORY_PREFIX, "NOOFFSETS", "SCHEMA", *schema)
            store = LongTermStore(client, dim=DIM)
            items = await _fill(store, memories)
            await _indexed(client)
            repeated = items[: repeat * 10]
            await client.execute("CONFIG", "RESETSTAT")
            times = []
            for item in repeated:
                start = time.perf_counter()
                [created] = await store.create(NAMESPACE, [item], max_distance=0.2)
                times.append((time.perf_counter() - start) * 1000)
                assert not created.created
            stats = await client.execute("INFO", "commandstats")
            line = next(
                row for row in stats.decode().splitlines() if row.startswith("cmdstat_evalsha:")
            )
            per_call = float(line.split("usec_per_call=")[1].split(",")[0])
            times.sort()
            print(
                f"hit path, index {label:22}: p50 {statistics.median(times):.3f} ms, "
                f"p90 {times[int(0.9 * (len(times) - 1))]:.3f} ms, "
                f"Redis {per_call:.1f} us per EVALSHA ({len(times)} calls, {memories:,} memories)"
            )

        await _with_redis(work)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=parse_count, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--only", choices=("pages", "hits"))
    args = parser.parse_args(argv)
    if args.only != "hits":
        asyncio.run(pages(args.memories, args.repeat))
    if args.only != "pages":
        asyncio.run(hit_path(args.memories, args.repeat))


if __name__ == "__main__":
    main()
