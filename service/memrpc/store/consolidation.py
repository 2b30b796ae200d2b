"""Consolidation's reads and writes: a walk over a namespace's memories,
the near neighbours of each, and the merge or supersession of two memories
(one script each, at the versions read, with its event on the namespace's
changes thread `memory_changes.CHANGES_THREAD`).

A pass walks the live, non-superseded memories of a namespace newest first
(`memory_listing.Order.NEWEST`), a page per run; the walk is kept in the
Hash `keys.consolidation(ns)`, so that a large namespace progresses across
runs:

| field     | holds                                                           |
|-----------|-----------------------------------------------------------------|
| `after`   | the place of the last memory the pass examined ('' at start)    |
| `top`     | the place of the pass's first (newest) memory ('' at start)     |
| `checked` | every memory up to this place was asked about (language model)  |

A place (`memory_listing.place`) is a memory's creation ms then its id,
text that sorts as the walk's order does, whether the id is a ULID or a
client's; a bare ULID (kept before client ids) reads as its place.
| `partial` | `1` once this pass examined memories without asking the model   |
|           | about them (no model, or a call failed)                         |

Only one run of the job works on a namespace at a time (the periodic
runner's lease), so the Hash is written without a script.

| script                 | writes                                                  |
|------------------------|---------------------------------------------------------|
| `memory_merge.lua`     | the survivor's counts and `merged_ids`; deletes the     |
|                        | loser; a `memrpc.memory_merged` event                   |
| `memory_supersede.lua` | the older memory's `superseded_by` and superseded flag; |
|                        | a `memrpc.memory_superseded` event                      |
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np

from memrpc.limits import CONSOLIDATION_NEIGHBOURS
from memrpc.store import keys, scripts
from memrpc.store.events import EventStore
from memrpc.store.long_term import LongTermStore, Match, Memory, Vector
from memrpc.store.memory_changes import CHANGES_THREAD, Change
from memrpc.store.memory_index import Flag, MemoryFilter
from memrpc.store.memory_listing import Order, place, place_position, placed
from memrpc.store.redis_mux import RedisClient
from memrpc.store.script_args import MemoryMerge, MemorySupersede


@dataclass(frozen=True)
class Walk:
    """Where a pass over a namespace stands (the fields of its Hash)."""

    after: str = ""
    top: str = ""
    checked: str = ""
    partial: bool = False

    def asks_about(self, memory: Memory) -> bool:
        """Whether this pass still asks the language model about `memory`:
        not asked in an earlier pass, and every memory before it in this
        pass asked about."""
        return not self.partial and place(memory.id, memory.create_ms) > self.checked

    def finished(self) -> Walk:
        """The walk of the next pass, once this one has examined every
        memory: what it examined is checked, unless it was not all asked
        about."""
        return Walk(checked=self.checked if self.partial else max(self.top, self.checked))


@dataclass(frozen=True)
class Examined:
    """A memory the walk examines, with its embedding."""

    memory: Memory
    vector: Vector


@dataclass(frozen=True)
class Page:
    """The memories of one run of a pass: the places of the first and the
    last memory listed ('' for none), and whether memories may follow
    (`more`)."""

    examined: list[Examined]
    first: str
    last: str
    more: bool


class ConsolidationStore:
    """The walk, neighbours, merges and supersessions of consolidation."""

    def __init__(self, redis: RedisClient, long_term: LongTermStore, events: EventStore) -> None:
        self._redis = redis
        self._long_term = long_term
        self._events = events
        self._merge = scripts.load(self._redis, MemoryMerge)
        self._supersede = scripts.load(self._redis, MemorySupersede)

    async def walk(self, ns: str) -> Walk:
        """The namespace's walk (a new pass's when none is kept)."""
        found = await self._redis.execute("HGETALL", keys.consolidation(ns))
        fields = {
            name.decode(): value.decode()
            for name, value in zip(found[::2], found[1::2], strict=True)
        }
        return Walk(
            after=placed(fields.get("after", "")),
            top=placed(fields.get("top", "")),
            checked=placed(fields.get("checked", "")),
            partial=fields.get("partial") == "1",
        )

    async def save(self, ns: str, walk: Walk) -> None:
        """Keeps the namespace's walk."""
        await self._redis.execute(
            "HSET", keys.consolidation(ns),
            "after", walk.after, "top", walk.top, "checked", walk.checked,
            "partial", "1" if walk.partial else "0",
        )  # fmt: skip

    async def page(self, ns: str, walk: Walk, count: int) -> Page:
        """The next `count` live, non-superseded memories of the pass, newest
        first, each with its embedding (those deleted meanwhile left out).
        One listing (fewer memories when they are large: its byte budget),
        then their vectors (the default model's field, which `neighbours`
        searches), pipelined `HGET`s."""
        after = place_position(walk.after) if walk.after else None
        listed = await self._long_term.list_page(
            ns, MemoryFilter(), Order.NEWEST, after, count=count
        )
        if not listed.memories:
            return Page([], "", "", more=False)
        vectors = await asyncio.gather(
            *(
                self._redis.execute("HGET", keys.memory(ns, memory.id), self._long_term.field.hash)
                for memory in listed.memories
            )
        )
        dtype = self._long_term.vector_type.dtype
        examined = [
            Examined(memory, np.frombuffer(vector, dtype).astype(np.float32))
            for memory, vector in zip(listed.memories, vectors, strict=True)
            if vector is not None
        ]
        more = listed.cut or len(listed.memories) == count
        first, last = (place(m.id, m.create_ms) for m in (listed.memories[0], listed.memories[-1]))
        return Page(examined, first, last, more=more)

    async def neighbours(self, ns: str, examined: Examined, max_distance: float) -> list[Match]:
        """The `CONSOLIDATION_NEIGHBOURS` nearest live, non-superseded
        memories of `examined`'s scope (user and kind) within
        `max_distance`, nearest first, without itself."""
        memory = examined.memory
        scope = MemoryFilter(user_ids=(memory.user_id,), kinds=(memory.kind,))
        matches = await self._long_term.search(
            ns,
            examined.vector,
            scope,
            limit=CONSOLIDATION_NEIGHBOURS + 1,
            max_distance=max_distance,
        )
        return [match for match in matches if match.memory.id != memory.id]

    def _change_args(self, ns: str, change: Change) -> dict[str, Any]:
        """The arguments of a script's event of `change` on the namespace's
        changes thread."""
        return {
            "vector_type": self._long_term.vector_type,
            "stream": keys.events(ns, CHANGES_THREAD),
            "feed": keys.feed(ns),
            "thread": CHANGES_THREAD,
            "event_type": change,
            "log_max_len": self._events.retention.log_max_len,
            "feed_max_len": self._events.retention.feed_max_len,
        }

    async def merge(self, ns: str, survivor: Memory, loser: Memory, distance: float) -> int | None:
        """Merges `loser` into `survivor`; returns the survivor's new hit
        count, or None when either changed since read (nothing written)."""
        reply = await self._merge(
            MemoryMerge(
                survivor=keys.memory(ns, survivor.id),
                loser=keys.memory(ns, loser.id),
                survivor_version=survivor.version,
                loser_version=loser.version,
                distance=distance,
                **self._change_args(ns, Change.MERGED),
            )
        )
        return int(reply[1]) if reply[0] == 1 else None

    async def supersede(self, ns: str, older: Memory, newer: Memory) -> bool:
        """Marks `older` superseded by `newer`; False when either changed
        since read (nothing written)."""
        marked = await self._supersede(
            MemorySupersede(
                older=keys.memory(ns, older.id),
                newer=keys.memory(ns, newer.id),
                older_version=older.version,
                newer_version=newer.version,
                flag=Flag.SUPERSEDED,
                **self._change_args(ns, Change.SUPERSEDED),
            )
        )
        return bool(marked)
