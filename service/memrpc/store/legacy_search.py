"""Searching the memories of storage schema 2 while they are migrated.

Until `store/migration.py` has converted every JSON document of
`memory_index.LEGACY_INDEX` to a Hash and dropped that index, a search of
`INDEX` alone would miss the memories not converted yet. `LegacySearch.run`
sends such a search to both indexes, pipelined: the legacy one's hits are
converted on the spot (`lua/memory_upgrade.lua`, which also returns the
fields the search asked for; one it cannot read is set aside,
`store/set_aside.py`) and join the reply as if `INDEX` had found
them, so every caller reads one reply of the current schema. Once the legacy index is
gone (a search of it fails and `FT._LIST` no longer names it), `run` sends
one search again, for good. The legacy index is sent the query as it reads
it (`memory_index.legacy_query`), and holds FLOAT32 vectors: a query vector
of another type is sent to it as FLOAT32 (exactly: FLOAT16 values are
FLOAT32 values). A server that starts on data without a legacy index never sends
it (`LegacySearch.find`).

What is merged, by the search's shape (RESP2 replies):

| search                          | reply                                    |
|---------------------------------|------------------------------------------|
| `LIMIT 0 0` (a count)           | the totals added                         |
| `RETURN` fields (KNN, keyword,  | the hits of both, the legacy ones with   |
| a listing's first keys)         | the fields read after their conversion   |
|                                 | and their `d`istance or score as found   |
| `FT.AGGREGATE` (a listing's     | the rows of both, which                  |
| millisecond)                    | `memory_listing.list_rows` orders        |

A search's totals (the counts of keyword recall's word weights) and its
first `LIMIT` hits then span both indexes' memories: a KNN search's
`limit` nearest of each, of which the caller keeps the nearest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
import redis.exceptions

from memrpc.store import set_aside
from memrpc.store.memory_document import VectorType
from memrpc.store.memory_index import DISTANCE, INDEX, LEGACY_INDEX, legacy_query
from memrpc.store.redis_mux import Arg
from memrpc.store.script_args import MemoryUpgrade
from memrpc.store.set_aside import Execute, Upgrade

_DISTANCE = DISTANCE.encode()


class LegacySearch:
    """Sends the searches of `INDEX` to `LEGACY_INDEX` too while it exists."""

    def __init__(self, execute: Execute, upgrade: Upgrade, vector_type: VectorType) -> None:
        self._execute = execute
        self._upgrade = upgrade
        self._vector_type = vector_type
        # Whether the legacy index may still exist: until `find` or a search
        # of it says it does not.
        self.active = True

    async def find(self) -> bool:
        """Whether the legacy index exists; a server without it never
        searches it again."""
        self.active = await legacy_index_exists(self._execute)
        return self.active

    async def upgrade(self, documents: Sequence[str | bytes], fields: Sequence[str]) -> list[Any]:
        """Converts `documents` (keys of one namespace) to schema 4 where they
        are not, and returns `fields` of each (`{}` when it is gone)."""
        if not documents:
            return []
        return await set_aside.upgrade(
            self._upgrade,
            self._execute,
            MemoryUpgrade(
                documents=[key.decode() if isinstance(key, bytes) else key for key in documents],
                vector_type=self._vector_type,
                fields=[(name,) for name in fields],
            ),
        )

    async def run(self, *args: Arg) -> Any:
        """The reply of search `args` (of `INDEX`), with the hits of the legacy
        index merged in while it exists."""
        if not self.active or args[1] != INDEX:
            return await self._execute(*args)
        own: Any
        old: Any
        own, old = await asyncio.gather(
            self._execute(*args), self._legacy(args), return_exceptions=True
        )
        if isinstance(own, BaseException):
            raise own
        if isinstance(old, redis.exceptions.ResponseError) and not await self.find():
            return own  # dropped by the migration meanwhile
        if isinstance(old, BaseException):
            raise old
        return await self._merged(args, own, old)

    async def _legacy(self, args: Sequence[Arg]) -> Any:
        """Search `args` sent to the legacy index: its query as that index
        reads it, and a query vector (`PARAMS ... v <blob>`) of another type
        than its FLOAT32 as FLOAT32."""
        legacy = [args[0], LEGACY_INDEX, legacy_query(str(args[2])), *args[3:]]
        if "PARAMS" in legacy and self._vector_type is not VectorType.FLOAT32:
            at = legacy.index("v", legacy.index("PARAMS")) + 1
            query = np.frombuffer(bytes(legacy[at]), self._vector_type.dtype)  # type: ignore[arg-type]
            legacy[at] = VectorType.FLOAT32.blob(query.astype(np.float32))
        return await self._execute(*legacy)

    async def _merged(self, args: Sequence[Arg], own: Any, old: Any) -> Any:
        """`own`'s reply with `old`'s (the legacy index's) merged in; a hit
        of `old` (its key, score when `WITHSCORES`, fields) with the fields
        `args` return, read after its conversion, and its distance."""
        if args[0] == "FT.AGGREGATE" or len(old) == 1:
            return [own[0] + old[0], *own[1:], *old[1:]]
        wanted = [name for name in _returned(args) if name != DISTANCE]
        step = 3 if "WITHSCORES" in args else 2
        hits = [old[at : at + step] for at in range(1, len(old), step)]
        values = await self.upgrade([hit[0] for hit in hits], wanted)
        merged = [own[0] + old[0], *own[1:]]
        for hit, found in zip(hits, values, strict=True):
            if not found:
                continue  # deleted meanwhile
            # `found` is `{'ok'}` when no field is wanted: nothing to pair.
            row = [
                part
                for name, value in zip(wanted, found, strict=False)
                if value is not None
                for part in (name.encode(), value)
            ]
            distance = dict(zip(hit[-1][::2], hit[-1][1::2], strict=True)).get(_DISTANCE)
            if distance is not None:
                row += [_DISTANCE, distance]
            merged += [*hit[:-1], row]
        return merged


async def legacy_index_exists(execute: Execute) -> bool:
    """Whether schema 2's index exists (one `FT._LIST`: no error reply to
    read)."""
    return LEGACY_INDEX.encode() in await execute("FT._LIST")


def _returned(args: Sequence[Arg]) -> list[str]:
    """The fields a search's `RETURN` names."""
    at = list(args).index("RETURN")
    count = int(args[at + 1])
    return [str(name) for name in args[at + 2 : at + 2 + count]]
