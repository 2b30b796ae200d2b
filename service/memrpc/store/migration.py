"""The migration of long-term memories from storage schema 2 (a JSON document
per memory, indexed by `memory_index.LEGACY_INDEX`) to schema 4 (a Hash per
memory, `memory_document`, indexed by `memory_index.INDEX`), in place and
online: the same keys, converted a few at a time while the server serves.

| key                    | type          | holds                             |
|------------------------|---------------|-----------------------------------|
| `memrpc:mem:{ns}:<id>` | JSON, then    | a memory; a step turns the JSON   |
|                        | Hash          | documents it finds into Hashes    |
| `memrpc:lease:migration` | String      | the migration job's lease         |
|                        |               | (`jobs/migration.py`)             |

Both indexes cover the same prefix, each only its own type, so a converted
key leaves the legacy index and enters the new one in the same script.
Until the legacy index is dropped, every search also searches it, and every
script converts a key before it touches it (`memory_upgrade` in
`lua/lib/memory.lua`, the one converter); the migration converts the rest.

A `step`: finds at most `MIGRATION_BATCH` legacy documents (`FT.SEARCH
LEGACY_INDEX *`, `NOCONTENT`, `TIMEOUT 0`, `DIALECT 4`: it stops at the
batch rather than counting every document, 0.09 ms against 2.7 ms at
20,000), groups their keys by namespace
(the keys of one script share the namespace's hash tag, so its slot) and
converts each group with `lua/memory_upgrade.lua`. When the search finds
none, it drops the legacy index (`FT.DROPINDEX` without `DD`: the keys
stay, they are the Hashes). Converting a Hash or a missing key does
nothing, so steps may repeat, race or stop anywhere: a crashed migration
resumes where the legacy index says. A document the converter cannot read
is set aside (`store/set_aside.py`) rather than stalling the migration.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass

from memrpc.limits import MIGRATION_BATCH
from memrpc.store import keys, scripts, set_aside
from memrpc.store.legacy_search import legacy_index_exists
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import INDEX, LEGACY_INDEX, vector_type_of
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import Lease, MemoryUpgrade


class MigrationError(Exception):
    """The migration cannot run yet (the schema-3 index is missing)."""


@dataclass(frozen=True)
class Step:
    """What one step did: documents it converted (or found gone), and
    whether it dropped the legacy index (the migration is done)."""

    converted: int
    dropped: bool = False


def namespace_of(key: str) -> str:
    """The namespace of a memory key: its hash tag."""
    return key[key.index("{") + 1 : key.index("}")]


class Migration:
    """Steps of the migration to schema 4 on one Redis."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis
        self._upgrade = scripts.load(redis, MemoryUpgrade)

    async def pending(self) -> bool:
        """Whether the legacy index exists: the migration is not done."""
        return await legacy_index_exists(self._redis.execute)

    async def left(self) -> int:
        """The documents the legacy index holds (0 once it is dropped)."""
        if not await self.pending():
            return 0
        info = await self._redis.execute("FT.INFO", LEGACY_INDEX)
        return int(info[info.index(b"num_docs") + 1])

    async def vector_type(self) -> VectorType:
        """The vector type of the schema-3 index, which a converted memory's
        vector is stored as: the index decides, whatever a process's
        settings say, so that every converted vector is one it indexes."""
        if INDEX.encode() not in await self._redis.execute("FT._LIST"):
            raise MigrationError(
                f"the index {INDEX} does not exist yet: a server creates it when it starts"
            )
        return vector_type_of(await self._redis.execute("FT.INFO", INDEX))

    async def step(self, vector_type: VectorType) -> Step:
        """Converts at most `MIGRATION_BATCH` legacy documents, storing their
        vectors as `vector_type`; drops the legacy index when none is left."""
        found = await self._redis.execute(
            "FT.SEARCH", LEGACY_INDEX, "*", "NOCONTENT", "LIMIT", 0, MIGRATION_BATCH,
            "TIMEOUT", 0, "DIALECT", 4,
        )  # fmt: skip
        documents = sorted(key.decode() for key in found[1:])
        if not documents:
            await self._redis.execute("FT.DROPINDEX", LEGACY_INDEX)
            return Step(converted=0, dropped=True)
        for _, group in itertools.groupby(documents, key=namespace_of):
            await set_aside.upgrade(
                self._upgrade,
                self._redis.execute,
                MemoryUpgrade(documents=list(group), vector_type=vector_type, fields=[]),
            )
        return Step(converted=len(documents))


class MigrationLease:
    """The migration's lease (`keys.migration_lease`, `lua/lease.lua`), as
    one runner (its token) takes and keeps it."""

    def __init__(self, redis: RedisClient) -> None:
        self.token = secrets.token_hex(8)
        self._script = scripts.load(redis, Lease)

    async def take(self, ttl_ms: int) -> int:
        """Takes the lease for `ttl_ms`: 0 when taken, else the ms another
        runner holds it still."""
        return await self._call("take", ttl_ms)

    async def keep(self, ttl_ms: int) -> bool:
        """Sets the lease to end `ttl_ms` from now, if this runner holds it."""
        return bool(await self._call("keep", ttl_ms))

    async def _call(self, action: str, ttl_ms: int) -> int:
        call = Lease(lease=keys.migration_lease(), action=action, token=self.token, ttl_ms=ttl_ms)
        reply: int = await self._script(call)
        return reply
