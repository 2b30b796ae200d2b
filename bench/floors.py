"""The floors: what memrpc's RPCs cost at least, measured without gRPC.

Raw redis-py (asyncio, hiredis, the server's own client library) on the same
Redis and the same data: HGETALL of a session hash memrpc wrote, the
FT.SEARCH KNN memrpc's search sends (same index, namespace filter, limit and
returned fields), an XADD, and a JSON.SET of a memory document into memrpc's
index (so Redis inserts it into the same HNSW graph). And the embedding
model alone (`memrpc.embedding.OnnxModel`, one thread as the server's
default), one text at a time and in batches.
"""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import redis.asyncio

from bench.corpus import DIM, NAMESPACE, Dataset, query_text
from bench.measure import Operation
from bench.workloads import SEARCH_LIMIT
from memrpc.embedding import OnnxModel
from memrpc.store import keys
from memrpc.store.long_term import MEMORY_PATHS
from memrpc.store.memory_index import (
    DISTANCE,
    INDEX,
    NEVER_MS,
    Kind,
    MemoryFilter,
    filter_query,
    knn,
    tags,
)

# The namespace the raw JSON.SET floor writes its documents in.
RAW_NAMESPACE = "benchraw"
EMBED_BATCH = 16
# Numbers of the texts the embedding floor embeds start here (never cached anywhere).
EMBED_TEXT_BASE = 500_000


def raw_document(memory_id: str, text: str, user: str, vector: np.ndarray) -> dict[str, Any]:
    """A memory document shaped like the ones memrpc writes."""
    now = time.time_ns() // 1_000_000
    return {
        "id": memory_id,
        "namespace": RAW_NAMESPACE,
        "user_id": user,
        "kind": Kind.SEMANTIC.value,
        "thread_id": "",
        "topics": ["preferences"],
        "text": text,
        "metadata": {},
        "create_ms": now,
        "update_ms": now,
        "expire_ms": 0,
        "hit_count": 1,
        "embedding": vector.tolist(),
        "tags": tags(
            RAW_NAMESPACE,
            user_id=user,
            thread_id="",
            kind=Kind.SEMANTIC,
            topics=["preferences"],
            text=text,
        ),
        "live_until": NEVER_MS,
    }


def redis_operations(client: redis.asyncio.Redis, data: Dataset) -> list[Operation]:
    """The raw redis-py floors."""
    sessions = [keys.session(NAMESPACE, thread) for thread in data.threads]
    blobs = [np.asarray(v, dtype="<f4").tobytes() for v in data.query_vectors]
    streams = [f"bench:raw:ev:{{{NAMESPACE}}}:{thread}" for thread in data.threads]
    event = json.dumps({"tool": "search_flights", "ok": True, "args": {"from": "LIS"}})
    rng = np.random.default_rng(13)

    async def hgetall(number: int) -> object:
        return await client.hgetall(sessions[number % len(sessions)])

    async def ft_search(number: int) -> object:
        now = time.time_ns() // 1_000_000
        query = knn(filter_query(NAMESPACE, now, MemoryFilter()), SEARCH_LIMIT)
        return await client.execute_command(  # type: ignore[no-untyped-call]
            "FT.SEARCH", INDEX, query,
            "PARAMS", 2, "v", blobs[number % len(blobs)],
            "SORTBY", DISTANCE,
            "RETURN", len(MEMORY_PATHS) + 1, *MEMORY_PATHS, DISTANCE,
            "LIMIT", 0, SEARCH_LIMIT,
            "DIALECT", 3,
        )  # fmt: skip

    async def xadd(number: int) -> object:
        fields = {"type": "agent.step", "json": event}
        stream = streams[number % len(streams)]
        return await client.xadd(stream, fields, maxlen=1000, approximate=True)  # type: ignore[arg-type]

    async def json_set(number: int) -> object:
        vector = rng.standard_normal(DIM).astype(np.float32)
        vector /= np.linalg.norm(vector)
        memory_id = f"raw{number:012d}"
        doc = raw_document(memory_id, f"raw memory {number}", "user-00", vector)
        return await client.json().set(keys.memory(RAW_NAMESPACE, memory_id), "$", doc)

    return [
        Operation("HGETALL", hgetall, note="a session hash memrpc wrote"),
        Operation("FT.SEARCH KNN", ft_search, note="memrpc's search command, namespace filter"),
        Operation("XADD", xadd, note="MAXLEN ~ 1000"),
        Operation("JSON.SET+index", json_set, note="memrpc-shaped document into memrpc's index"),
    ]


def embedding_operations(model: OnnxModel) -> list[Operation]:
    """The embedding model alone: one text per call, and `EMBED_BATCH` per call.
    The model runs on the calling thread, so these have no concurrent phase."""

    async def one(number: int) -> object:
        return model.embed([query_text(EMBED_TEXT_BASE + number)])

    async def batch(number: int) -> object:
        base = EMBED_TEXT_BASE + 1_000_000 + number * EMBED_BATCH
        return model.embed([query_text(base + i) for i in range(EMBED_BATCH)])

    return [
        Operation("embed(1 text)", one, concurrencies=(), note="texts/s = 1 / latency"),
        Operation(
            f"embed({EMBED_BATCH} texts)",
            batch,
            items=EMBED_BATCH,
            concurrencies=(),
            note="items_per_s counts texts",
        ),
    ]
