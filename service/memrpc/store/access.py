"""Access counts of long-term memories: how many searches returned each
memory, and when the last did, written in batches (`access_recorder.py`
gathers them).

| Hash field (`store/memory_document.py`) | holds                                |
|-----------------------------------------|--------------------------------------|
| `ac`                                    | searches that returned the memory    |
| `la`                                    | when the last did (ms; absent: never)|
| `r`                                     | the same: the index's `recalled`     |
|                                         | (`memory_index`)                     |

One `lua/memory_access.lua` call per batch of one namespace's memories:
neither `version` nor `update_ms` changes, the times only move forward, and
a memory deleted since is not written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from memrpc.store import keys, scripts
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE, VectorType
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import MemoryAccess


@dataclass(frozen=True)
class Access:
    """Searches that returned memory `memory_id`: `count` of them, the last
    at `last_ms` (ms since the epoch)."""

    memory_id: str
    count: int
    last_ms: int


class AccessStore:
    """Writes the access counts of memories (whose vectors are `vector_type`
    values), in Redis."""

    def __init__(self, redis: RedisClient, vector_type: VectorType = DEFAULT_VECTOR_TYPE) -> None:
        self._write = scripts.load(redis, MemoryAccess)
        self._vector_type = vector_type

    async def write(self, ns: str, accesses: Sequence[Access]) -> int:
        """Adds `accesses` (of distinct memories of `ns`) to their memories;
        returns how many of them still existed. One script call: the caller
        bounds the batch (`ACCESS_FLUSH_BATCH`)."""
        written: int = await self._write(
            MemoryAccess(
                documents=[keys.memory(ns, access.memory_id) for access in accesses],
                prefix=keys.memory(ns, ""),
                vector_type=self._vector_type,
                accesses=[(access.count, access.last_ms) for access in accesses],
            )
        )
        return written
