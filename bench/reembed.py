"""What a move to another embedding model costs: the re-embed job's steps
(`store/reembed.py`) over one namespace of `--memories` memories, timed.

```sh
.venv/bin/python -m bench.reembed --memories 3000
```

It starts an embedded Redis of its own, writes the memories (texts of about
150 characters, embedded by the packaged model) and records a move to a
second real model: a copy of the packaged one with one byte of its weights
changed (another fingerprint, the same architecture and cost). Then it
runs the move's steps flat out in this process, as one `memrpc worker`'s
runner would (the new model's background lane, one thread), and reports
the time of the whole move (every pass: fill, switch, done), the texts
embedded a second, Redis memory before the move, after it (both vectors)
and after the cleanup (the new vector alone), and the cleanup's time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.redis_memory import used_memory
from memrpc.embedded_redis import EmbeddedRedis
from memrpc.embedding import load_default_embedder
from memrpc.embedding.model_files import model_files
from memrpc.limits import REEMBED_SETTLE_S
from memrpc.store.long_term import LongTermStore, NewMemory
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE
from memrpc.store.memory_index import ORIGINAL_FIELD, model_field
from memrpc.store.model_record import claim
from memrpc.store.redis_mux import RedisMux
from memrpc.store.reembed import Reembed, Target

NAMESPACE = "bench-reembed"
# Memories written per `create` call.
WRITE_CHUNK = 100


def changed_model(target: Path) -> Path:
    """A copy of the packaged model at `target` with one weight byte changed."""
    files = model_files(None)
    target.mkdir()
    shutil.copy(files.onnx, target / "model.onnx")
    shutil.copy(files.tokenizer, target / "tokenizer.json")
    onnx = target / "model.onnx"
    data = bytearray(onnx.read_bytes())
    data[len(data) // 2] ^= 1
    onnx.write_bytes(bytes(data))
    return target


def texts(count: int) -> list[str]:
    """`count` distinct texts of about 150 characters."""
    return [
        f"Note {i}: the team agreed to revisit item {i * 7919 % 997} of the plan in week "
        f"{i % 52}, after the review of budget line {i % 31} with the partners in city {i % 17}."
        for i in range(count)
    ]


async def measure(count: int, work: Path) -> dict[str, float]:
    redis_server = EmbeddedRedis(work / "redis")
    redis_server.start()
    old = load_default_embedder(None)
    new = load_default_embedder(changed_model(work / "changed"))
    mux = RedisMux(redis_server.url)
    try:
        store = LongTermStore(mux, dim=old.dim, vector_type=DEFAULT_VECTOR_TYPE)
        await store.ensure_index()
        await claim(mux, old.identity, now_ms=0)
        written = texts(count)
        for first in range(0, count, WRITE_CHUNK):
            chunk = written[first : first + WRITE_CHUNK]
            vectors = await old.embed(chunk)
            items = [NewMemory(text=t, embedding=v) for t, v in zip(chunk, vectors, strict=True)]
            await store.create(NAMESPACE, items, max_distance=0)
        before = await used_memory(mux)
        record = await claim(mux, old.identity, now_ms=0, next=new.identity)
        assert record.next is not None
        await store.ensure_model_field(record.next.field, new.dim)
        field = model_field(new.identity.fingerprint)
        reembed = Reembed(mux, Target(new.background(), field), DEFAULT_VECTOR_TYPE)
        started, steps = time.perf_counter(), 0
        while not (await reembed.step(NAMESPACE, time.time_ns() // 1_000_000)).state.switched:
            steps += 1
        moved_s = time.perf_counter() - started
        # The job waits REEMBED_SETTLE_S, doing nothing, then checks once
        # more: the check counted, not the wait.
        settled_ms = (await reembed.state(NAMESPACE)).switched_ms + int(REEMBED_SETTLE_S * 1000)
        assert (await reembed.step(NAMESPACE, settled_ms)).state.done
        filled = (await reembed.state(NAMESPACE)).filled
        assert await reembed.finish(time.time_ns() // 1_000_000)
        both = await used_memory(mux)
        started = time.perf_counter()
        while not (await reembed.cleanup_step(NAMESPACE, ORIGINAL_FIELD))[1].cleaned:
            pass
        cleanup_s = time.perf_counter() - started
        after = await used_memory(mux)
    finally:
        await mux.aclose()
        await old.aclose()
        await new.aclose()
        redis_server.stop()
    return {
        "memories": count,
        "filled": filled,
        "steps": steps + 1,
        "move_s": round(moved_s, 2),
        "embeddings_per_s": round(filled / moved_s, 1),
        "cleanup_s": round(cleanup_s, 2),
        "bytes_per_memory_before": round(before / count),
        "bytes_per_memory_both_vectors": round(both / count),
        "bytes_per_memory_after_cleanup": round(after / count),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memories", type=int, default=3000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as work:
        figures = asyncio.run(measure(args.memories, Path(work)))
    json.dump(figures, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
