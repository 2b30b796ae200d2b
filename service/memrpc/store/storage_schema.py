"""The record of the storage schema of the long-term memories in a Redis.

| key             | type   | holds                                          |
|-----------------|--------|------------------------------------------------|
| `memrpc:schema` | String | the newest storage schema memories are written |
|                 |        | in: `memory_document.SCHEMA`                   |

Schema 2 (JSON documents) had no record; the Hashes of schema 3 and later
write it. Every server and worker claims the record at start (`claim`, one
`SET ... NX GET`) and is refused when it holds another schema than this
code's: a release that changes the format raises the number, so older
servers, which could not read what it writes, stop at their next start
instead of failing call after call (docs/deployment.md#upgrading-stored-data).
The one older schema this code converts, 2, has no record; schema 3 (Hashes
whose text and metadata were hex TAGs) was written only by development
builds between two releases, and is not converted.
"""

from __future__ import annotations

from memrpc.store import keys
from memrpc.store.memory_document import SCHEMA
from memrpc.store.redis_mux import RedisClient


class OtherSchema(Exception):
    """The memories are stored in a schema this code does not read."""

    def __init__(self, recorded: int) -> None:
        if recorded > SCHEMA:
            why = "cannot read: run the memrpc release that wrote them, or a later one"
        else:
            why = (
                "does not convert: only unreleased development builds wrote it; run the build "
                "that wrote them, or start on a Redis without memrpc's memories"
            )
        super().__init__(
            f"holds memories of storage schema {recorded}, which this memrpc (schema {SCHEMA}) "
            + why
        )
        self.recorded = recorded


async def claim(redis: RedisClient) -> None:
    """Records `SCHEMA` unless a schema is recorded. Raises `OtherSchema` for
    another one, and `ValueError` for a record that is not a number."""
    found = await redis.execute("SET", keys.storage_schema(), SCHEMA, "NX", "GET")
    if found is not None and int(found) != SCHEMA:
        raise OtherSchema(int(found))
