"""Legacy documents the converter cannot read, set aside so that nothing
waits on them.

A key under `keys.MEMORY_PREFIX` holding a JSON document that is no memory
of storage schema 2 (written by hand, or damaged) is refused by the
converter (`memory_upgrade` in `lua/lib/memory.lua`: an `UNREADABLE` error,
before any write). Left there, it would stay in the legacy index for good:
every migration step would find it first and fail, and every search that
hit it would fail too. `upgrade` converts a batch as `lua/memory_upgrade.lua`
does, and when the batch is refused, converts its keys one by one and
renames each refused one to `keys.unreadable_memory` (the same namespace
and id, outside every index's prefix, kept as it was for an operator to
read) with a warning in the log; such a key then reads as gone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import redis.exceptions

from memrpc.store import keys
from memrpc.store.redis_errors import UnreadableMemoryError
from memrpc.store.script_args import MemoryUpgrade

log = logging.getLogger("memrpc.store")

Execute = Callable[..., Awaitable[Any]]
Upgrade = Callable[[MemoryUpgrade], Awaitable[Any]]


async def upgrade(convert: Upgrade, execute: Execute, call: MemoryUpgrade) -> list[Any]:
    """The reply of `convert(call)`, with every document it refuses set
    aside and answered as gone (`[]`). One script for a batch the converter
    reads; one per key, then, for a batch it refuses."""
    try:
        reply: list[Any] = await convert(call)
        return reply
    except UnreadableMemoryError:
        pass
    replies: list[Any] = []
    for key in call.documents:
        try:
            replies += await convert(dataclasses.replace(call, documents=[key]))
        except UnreadableMemoryError:
            await _set_aside(execute, key)
            replies.append([])
    return replies


async def _set_aside(execute: Execute, key: str) -> None:
    """Renames `key` out of the memories' prefix (unless it is gone)."""
    to = keys.unreadable_memory(key)
    try:
        await execute("RENAME", key, to)
    except redis.exceptions.ResponseError:
        if await execute("EXISTS", key):
            raise
        return  # deleted meanwhile
    log.warning(
        "%s is no memory of storage schema 2 and was set aside as %s: read it with JSON.GET",
        key,
        to,
    )
