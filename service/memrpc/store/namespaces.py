"""The namespaces the background jobs look after.

| key                 | type | holds                                      |
|---------------------|------|--------------------------------------------|
| `memrpc:namespaces` | Set  | every namespace that ever had turns or     |
|                     |      | memories written by CreateMemories         |

The jobs read each namespace's feed, and the periodic jobs (forgetting) its
memories; they find the namespaces here rather than by scanning the
keyspace. A server process adds a namespace the first time it appends turns
or creates memories in it (`note`, one `SADD` per namespace and process,
before the write: a failed `SADD` fails the call before anything is
written). The key
is not namespace-tagged: it is written outside the append's script.
"""

from __future__ import annotations

from memrpc.store import keys
from memrpc.store.redis_mux import RedisClient

# How many members one SSCAN step asks for: a large set is read in steps
# that each hold Redis for little time.
SCAN_COUNT = 1000


class NamespaceSet:
    """The set of namespaces with turns or memories, and this process's memory of the
    namespaces it has added already."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._noted: set[str] = set()

    async def note(self, ns: str) -> None:
        """Adds `ns`, once per process."""
        if ns not in self._noted:
            await self._redis.execute("SADD", keys.namespaces(), ns)
            self._noted.add(ns)

    async def members(self) -> set[str]:
        """Every namespace added, read in bounded steps (`SSCAN`)."""
        found: set[str] = set()
        cursor = b"0"
        while True:
            cursor, batch = await self._redis.execute(
                "SSCAN", keys.namespaces(), cursor, "COUNT", SCAN_COUNT
            )
            found.update(member.decode() for member in batch)
            if cursor == b"0":
                return found
