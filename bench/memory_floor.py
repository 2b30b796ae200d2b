"""What a long-term memory costs in Redis, against what any memory costs:
`python -m bench.memory_floor [--memories N]` from the repository root.

For each vector type, one embedded Redis per layout, the same memories
(`bench/scale_data.py`: ~150-character texts, random unit vectors, their
metadata), and the `used_memory` growth per memory of:

- `vector`: a Hash holding only the vector, indexed by memrpc's vector
  field (HNSW, M 16): what any searchable vector costs here;
- `vector+text`: the same with the text, indexed as a TEXT field
  (`NOOFFSETS NOFIELDS`, as memrpc's): the floor of a memory that can be
  found by meaning and by words;
- `memrpc`: the memory as `LongTermStore.create` writes it (every field
  of `store/memory_document.py`, the index of `store/memory_index.py`).

The difference between the last two is what memrpc's filters, dedup and
listings cost each memory; `docs/performance.md#memory-per-long-term-memory`
reads it.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import redis.asyncio

from bench.scale_data import BATCH, Layout, parse_count
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.store import memory_document as doc
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import fields
from memrpc.store.redis_mux import Arg, RedisMux

MEMORIES = 20_000
DIM = 384
_PREFIX = "memrpc:mem:{floor}:"
_LAYOUT = Layout("floor", users=2, seed=1)

Load = Callable[[str, VectorType, int], Awaitable[None]]


def _index(vector_type: VectorType, *, text: bool) -> list[Arg]:
    """memrpc's index, but only its vector field (and its text field)."""
    schema = dict(fields(DIM, vector_type))
    kept = ["embedding", "body"] if text else ["embedding"]
    return ["FT.CREATE", "floor", "ON", "HASH", "PREFIX", 1, _PREFIX, "NOOFFSETS", "NOFIELDS",
            "SCHEMA", *(arg for name in kept for arg in schema[name])]  # fmt: skip


async def _bare(url: str, vector_type: VectorType, memories: int, *, text: bool) -> None:
    """Hashes of the vector (and the text) alone, a batch at a time (the
    multiplexed connection pipelines them)."""
    mux = RedisMux(url)
    try:
        await mux.execute(*_index(vector_type, text=text))
        for batch in range(memories // BATCH):
            writes = []
            for j, vector in enumerate(_LAYOUT.batch_vectors(batch)):
                number = batch * BATCH + j
                found: list[Arg] = [doc.VECTOR, vector_type.blob(vector)]
                if text:
                    found += [doc.TEXT, _LAYOUT.text(number)]
                writes.append(mux.execute("HSET", f"{_PREFIX}{number:026d}", *found))
            await asyncio.gather(*writes)
    finally:
        await mux.aclose()


async def _memrpc(url: str, vector_type: VectorType, memories: int) -> None:
    """The memories as memrpc writes them (dedup off: every one written)."""
    mux = RedisMux(url)
    try:
        store = LongTermStore(mux, dim=DIM, vector_type=vector_type)
        await store.ensure_index()
        for batch in range(memories // BATCH):
            vectors = _LAYOUT.batch_vectors(batch)
            items = [
                NewMemory(
                    _LAYOUT.text(number),
                    vectors[number - batch * BATCH],
                    user_id=_LAYOUT.user(number),
                    metadata=_LAYOUT.metadata(number),
                )
                for number in range(batch * BATCH, (batch + 1) * BATCH)
            ]
            await store.create("floor", items, max_distance=0)
    finally:
        await mux.aclose()


async def _vector(url: str, vector_type: VectorType, memories: int) -> None:
    await _bare(url, vector_type, memories, text=False)


async def _vector_text(url: str, vector_type: VectorType, memories: int) -> None:
    await _bare(url, vector_type, memories, text=True)


LAYOUTS: dict[str, Load] = {"vector": _vector, "vector+text": _vector_text, "memrpc": _memrpc}


async def bytes_per_memory(load: Load, vector_type: VectorType, memories: int) -> float:
    """The `used_memory` growth per memory of `load` in a fresh Redis."""
    with tempfile.TemporaryDirectory() as work:
        server = EmbeddedRedis(Path(work))
        server.start()
        client = redis.asyncio.Redis.from_url(server.url)
        try:
            before = (await client.info("memory"))["used_memory"]
            await load(server.url, vector_type, memories)
            after = (await client.info("memory"))["used_memory"]
            return float(after - before) / memories
        finally:
            await client.aclose()
            server.stop()


async def measure(memories: int = MEMORIES) -> dict[str, Any]:
    """Bytes per memory of every layout, for each vector type."""
    found: dict[str, Any] = {"memories": memories}
    for vector_type in VectorType:
        found[vector_type.value] = {
            name: await bytes_per_memory(load, vector_type, memories)
            for name, load in LAYOUTS.items()
        }
    return found


def lines(section: dict[str, Any]) -> list[str]:
    out = [f"bytes per memory at {section['memories']:,} memories"]
    out.append(f"  {'':10}" + "".join(f"{name:>14}" for name in LAYOUTS))
    for vector_type in VectorType:
        row = section[vector_type.value]
        out.append(
            f"  {vector_type.value:10}" + "".join(f"{row[name]:>14,.0f}" for name in LAYOUTS)
        )
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=parse_count, default=MEMORIES)
    args = parser.parse_args(argv)
    print("\n".join(lines(asyncio.run(measure(args.memories)))))


if __name__ == "__main__":
    main()
