"""Walking the keys of one namespace with `SCAN` on the node that holds them
(on a Redis Cluster, the primary of the namespace's `{ns}` slot; valkey
then scans only that slot): the one loop of exports, imports, erasures and
namespace deletions. Namespaces hold [A-Za-z0-9._-] only, so nothing in
one is read as glob syntax in a pattern."""

from __future__ import annotations

from collections.abc import AsyncIterator

from memrpc.store import keys
from memrpc.store.redis_mux import RedisClient

# The cursor of a scan not begun, and of one gone round.
START = b"0"


def is_done(cursor: object) -> bool:
    """Whether `cursor` (a `SCAN` reply's) ends the scan."""
    return cursor in (b"0", 0, "0")


async def scan_step(
    redis: RedisClient, ns: str, cursor: bytes, pattern: str, count: int
) -> tuple[bytes, list[bytes]]:
    """One `SCAN` of the namespace's node from `cursor`: the next cursor
    and the keys found matching `pattern`."""
    found_cursor, found = await redis.execute_at(
        keys.probe(ns), "SCAN", cursor, "MATCH", pattern, "COUNT", count
    )
    return found_cursor, list(found)


async def scan_pages(
    redis: RedisClient, ns: str, pattern: str, count: int
) -> AsyncIterator[list[bytes]]:
    """Every page of keys of the namespace's node matching `pattern`, one
    `SCAN` each (a page may be empty), until the scan has gone round."""
    cursor = START
    while True:
        cursor, found = await scan_step(redis, ns, cursor, pattern, count)
        yield found
        if is_done(cursor):
            return
