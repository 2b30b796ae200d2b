"""The record of the storage schema of the long-term memories in a Redis.

| key             | type   | holds                                          |
|-----------------|--------|------------------------------------------------|
| `memrpc:schema` | String | the newest storage schema memories are written |
|                 |        | in: `memory_document.SCHEMA`                   |

Schema 2 (JSON documents) had no record; schema 3 (Hashes) writes it. Every
server and worker claims the record at start (`claim`, one `SET ... NX
GET`) and is refused when it holds a newer schema than this code reads: a
release that changes the format raises the number, so older servers,
which could not read what it writes, stop at their next start instead of
failing call after call (docs/deployment.md#upgrading-stored-data).
"""

from __future__ import annotations

from memrpc.store import keys
from memrpc.store.memory_document import SCHEMA
from memrpc.store.redis_mux import RedisMux


class NewerSchema(Exception):
    """The memories are stored in a schema newer than this code's."""

    def __init__(self, recorded: int) -> None:
        super().__init__(
            f"holds memories of storage schema {recorded}, which this memrpc (schema {SCHEMA}) "
            "cannot read: run the memrpc release that wrote them, or a later one"
        )
        self.recorded = recorded


async def claim(redis: RedisMux) -> int:
    """Records `SCHEMA` unless a schema is recorded; returns the schema
    recorded before (`SCHEMA` when none was). Raises `NewerSchema` for a
    newer one, and `ValueError` for a record that is not a number."""
    found = await redis.execute("SET", keys.storage_schema(), SCHEMA, "NX", "GET")
    recorded = SCHEMA if found is None else int(found)
    if recorded > SCHEMA:
        raise NewerSchema(recorded)
    return recorded
