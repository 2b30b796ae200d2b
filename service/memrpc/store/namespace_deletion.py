"""Deleting every key of a namespace (`Administration.DeleteNamespace`).

The keys of a namespace are those whose Redis Cluster hash tag is the
namespace (`store/keys.py`): a `SCAN` for names holding `{<ns>}` finds them
(on a Redis Cluster, on the namespace's node; valkey then scans only its
slot), and each one whose first tag is exactly the namespace is unlinked,
`ERASURE_STEP_KEYS` names per step. The scan's cursor is kept after each
step in `keys.namespace_deletion(ns)`, outside the namespace, so that a
call that ran out of time, or a server that stopped, goes on from where it
was; the namespace leaves `keys.namespaces()` (the background jobs' list)
first, and the cursor is removed when the scan has gone round. The audit
logs are never touched: their tag is not the namespace.

Keys written while the scan runs may be missed: stop the namespace's
writers first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from memrpc.limits import ERASURE_STEP_KEYS
from memrpc.store import keys
from memrpc.store.hash_slot import hash_tag
from memrpc.store.namespace_scan import START, is_done, scan_step
from memrpc.store.redis_mux import RedisClient


@dataclass(frozen=True)
class Deletion:
    """What one call did: whether the namespace is gone, and how many keys
    it deleted."""

    done: bool
    deleted_keys: int


class NamespaceDeleter:
    """Deletes namespaces in bounded, resumable steps."""

    def __init__(self, redis: RedisClient) -> None:
        self._redis = redis

    async def delete(self, ns: str, *, seconds: float) -> Deletion:
        """Deletes `ns`'s keys until none is left or `seconds` have passed
        (at least one step is made)."""
        until = time.monotonic() + seconds
        marker = keys.namespace_deletion(ns)
        await self._redis.execute("SREM", keys.namespaces(), ns)
        cursor = await self._redis.execute("GET", marker) or START
        tag = ns.encode()
        pattern = f"*{{{ns}}}*"
        deleted = 0
        while True:
            cursor, found = await scan_step(self._redis, ns, cursor, pattern, ERASURE_STEP_KEYS)
            doomed = [key for key in found if hash_tag(key) == tag]
            if doomed:
                deleted += int(await self._redis.execute("UNLINK", *doomed))
            if is_done(cursor):
                await self._redis.execute("DEL", marker)
                return Deletion(done=True, deleted_keys=deleted)
            await self._redis.execute("SET", marker, cursor)
            if time.monotonic() >= until:
                return Deletion(done=False, deleted_keys=deleted)
