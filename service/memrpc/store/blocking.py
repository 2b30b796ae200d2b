"""A connection of its own for blocking reads (`XREAD BLOCK`, `XREADGROUP
BLOCK`), and how another task ends the read blocked on it.

A blocking read would stall every command behind it on a shared
connection, so it runs on a `dedicated` one (`store/redis_mux.py`): on a
Redis Cluster, to the primary of `route`'s slot, and its reads then name
keys of that slot only. Another task ends the read in flight early with
`CLIENT UNBLOCK <client id>` sent to the same node, on the shared
connection there (`RedisClient.execute_at(route)`): Redis ends the read as
if its time were up. The tails (`EventStore.tail`) and the background jobs
(`JobFeeds.reader`) read this way.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from memrpc.store.redis_mux import Connection, RedisClient


@dataclass(frozen=True, slots=True, eq=False)
class BlockingConnection:
    """A connection for blocking reads, its Redis client id, and a key of
    its node (None on one node)."""

    redis: RedisClient
    connection: Connection
    client_id: int
    route: str | None

    async def interrupt(self) -> bool:
        """Ends the read blocked on the connection as if its time were up
        (`CLIENT UNBLOCK`); False when none was: the read has not reached
        Redis yet, or has ended."""
        unblocked = await self.redis.execute_at(self.route, "CLIENT", "UNBLOCK", self.client_id)
        return bool(unblocked)


@contextlib.asynccontextmanager
async def blocking_connection(
    redis: RedisClient, route: str | None = None
) -> AsyncIterator[BlockingConnection]:
    """A connection of its own while the context lasts: on a Redis Cluster,
    to the primary of `route`'s slot."""
    async with redis.dedicated(route) as connection:
        yield BlockingConnection(redis, connection, await connection.execute("CLIENT", "ID"), route)
