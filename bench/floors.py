"""The floors: what memrpc's RPCs cost at least, measured without gRPC.

Raw redis-py (asyncio, hiredis, the server's own client library) on the same
Redis and the same data: HGETALL of a session hash memrpc wrote, the
FT.SEARCH KNN memrpc's search sends (`long_term.search_command`: same index,
namespace filter, limit and returned fields), an XADD, and an HSET of a
memory's Hash built as memrpc builds it (`long_term.document`: the same
fields, and the vector of the default type) into memrpc's index (so Redis inserts it
into the same HNSW graph). And the embedding model alone (`memrpc.embedding.OnnxModel`, one
thread as the server's default), one text at a time and in batches.
"""

from __future__ import annotations

import json
import time

import numpy as np
import redis.asyncio

from bench.corpus import DIM, NAMESPACE, Dataset, query_text
from bench.measure import Operation
from bench.workloads import SEARCH_LIMIT
from memrpc.embedding import OnnxModel
from memrpc.store import keys, memory_document
from memrpc.store.long_term import NewMemory, document, search_command
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE
from memrpc.store.memory_index import ORIGINAL_FIELD, Kind, MemoryFilter

# The namespace the raw HSET floor writes its memories in.
RAW_NAMESPACE = "benchraw"
EMBED_BATCH = 16
# Numbers of the texts the embedding floor embeds start here (never cached anywhere).
EMBED_TEXT_BASE = 500_000


def raw_document(
    memory_id: str, text: str, user: str, vector: np.ndarray
) -> dict[str, str | bytes]:
    """The fields of a memory's Hash, built as memrpc builds the ones it
    writes (its number aside)."""
    item = NewMemory(text, vector, user_id=user, kind=Kind.SEMANTIC, topics=("preferences",))
    now = time.time_ns() // 1_000_000
    fields: dict[str, str | bytes] = json.loads(document(RAW_NAMESPACE, memory_id, item, now)[1])
    return fields | {memory_document.VECTOR: DEFAULT_VECTOR_TYPE.blob(vector)}


def redis_operations(client: redis.asyncio.Redis, data: Dataset) -> list[Operation]:
    """The raw redis-py floors."""
    sessions = [keys.session(NAMESPACE, thread) for thread in data.threads]
    streams = [f"bench:raw:ev:{{{NAMESPACE}}}:{thread}" for thread in data.threads]
    event = json.dumps({"tool": "search_flights", "ok": True, "args": {"from": "LIS"}})
    rng = np.random.default_rng(13)

    async def hgetall(number: int) -> object:
        return await client.hgetall(sessions[number % len(sessions)])

    async def ft_search(number: int) -> object:
        now = time.time_ns() // 1_000_000
        vector = data.query_vectors[number % len(data.query_vectors)]
        query = DEFAULT_VECTOR_TYPE.blob(vector)
        command = search_command(
            NAMESPACE, now, MemoryFilter(), query, SEARCH_LIMIT, field=ORIGINAL_FIELD
        )
        return await client.execute_command(*command)  # type: ignore[no-untyped-call]

    async def xadd(number: int) -> object:
        fields = {"type": "agent.step", "json": event}
        stream = streams[number % len(streams)]
        return await client.xadd(stream, fields, maxlen=1000, approximate=True)  # type: ignore[arg-type]

    async def hset(number: int) -> object:
        vector = rng.standard_normal(DIM).astype(np.float32)
        vector /= np.linalg.norm(vector)
        memory_id = f"raw{number:012d}"
        doc = raw_document(memory_id, f"raw memory {number}", "user-00", vector)
        key = keys.memory(RAW_NAMESPACE, memory_id)
        return await client.hset(key, mapping=doc)  # type: ignore[arg-type]

    return [
        Operation("HGETALL", hgetall, note="a session hash memrpc wrote"),
        Operation("FT.SEARCH KNN", ft_search, note="memrpc's search command, namespace filter"),
        Operation("XADD", xadd, note="MAXLEN ~ 1000"),
        Operation("HSET+index", hset, note="memrpc-shaped memory into memrpc's index"),
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
