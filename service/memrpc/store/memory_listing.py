"""Listing a namespace's memories in a stable order, page after page, on
the index of `memory_index`, each page in work bounded by its size, not by
the namespace's.

Two orders, both total (no two memories compare equal):

| order      | sorted by                                | keyset after the last memory `L` |
|------------|------------------------------------------|----------------------------------|
| `NEWEST`   | `id` descending                          | `id < L.id`                      |
| `MOST_HIT` | `hit_count` descending, then `id` desc.  | `hit_count < L.hit_count`, or    |
|            |                                          | equal and `id < L.id`            |

Ids are ULIDs whose first 48 bits are the creation time in ms
(`store/ulid.py`, `memory.create_ms`), so ordering by id is ordering by
`create_ms`, then by the rest of the id for the memories of one
millisecond (the items of one `CreateMemories`). Each order is thus a
chain of numeric keys, `hit_count` then `create_ms` (`MOST_HIT`) or
`create_ms` alone (`NEWEST`), ended by the id.

Sorting every memory the filter keeps (one `FT.AGGREGATE ... SORTBY`)
costs about 0.75 us a memory: 75 ms at 100,000, seconds at a million, all
of it holding Redis. A page asks instead, for its first key, only for the
`n` it still needs:

    FT.SEARCH idx '<filter> @create_ms:[-inf (ms]' SORTBY create_ms DESC
      LIMIT 0 n RETURN 2 id h TIMEOUT 0 DIALECT 4

which Redis Search answers from its numeric index, walking the ranges of
`create_ms` from the top until it holds `n` (DIALECT 4 turns that on, and
the exact count off): about 3 ms at 100,000 where the full sort takes 180
(`bench/list_memories.py`). Those `n` hold every memory of a key value
above the last one's, in any order (sorted here); the last value's memories
may be cut, so they are dropped and that value's group is listed by the
next key (`hit_count` ties by `create_ms`; a millisecond's by id, one
`FT.AGGREGATE ... SORTBY @id` of that millisecond). After a position, the
rest of its value's group comes first, listed the same way, then the
values below. A page is so at most three searches (`NEWEST`) or seven
(`MOST_HIT`), each over a page's worth of memories, the group of one
millisecond, or (`MOST_HIT`, walking the ranges of `hit_count`) the
memories of the hit count it stops at: most of a namespace are written
once, so the first page after the last memory hit twice or more sorts
those, a cost `bench/list_memories.py` measures.

No offset is ever used, so a deep page costs no more than the first, and a
memory deleted or created meanwhile shifts nothing: each page starts
strictly after the last memory sent. A memory rewritten between two
searches of a page (a dedup hit moves it up the `MOST_HIT` order) may be
listed where it was or where it is, as with any read of a live listing.

`TIMEOUT 0`: a search cut short by the module's timeout (500 ms, partial
results by default) would skip memories.

The position's id reaches the `FILTER` expression quoted: it is checked to
be a ULID first (Crockford base 32 only), so no caller's string is parsed
as expression syntax; every other part of the query is `filter_query`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from memrpc.store.memory_document import HIT_COUNT, ID
from memrpc.store.memory_index import INDEX, MemoryFilter, filter_query
from memrpc.store.redis_mux import Arg
from memrpc.store.set_aside import Execute
from memrpc.store.ulid import is_ulid, time_ms

# The sort keys, as the index names them.
_HIT_COUNT = "hit_count"
_CREATE_MS = "create_ms"
# The lowest value of a sort key, when it has one: every memory was written
# once at least. Most memories hold it, and Search walks a range of ties
# whole, so the values above it are searched apart from it.
_FLOORS = {_HIT_COUNT: 1}
# A reply's fields: a search's (the Hash's names), an aggregate's.
_ID = ID.encode()
_HITS = HIT_COUNT.encode()
_HITS_LOADED = _HIT_COUNT.encode()


class Order(Enum):
    """The order of a listing."""

    NEWEST = "newest"
    MOST_HIT = "most_hit"


@dataclass(frozen=True)
class Position:
    """The last memory a page held: the next page starts right after it.
    `hit_count` is read by `MOST_HIT` only."""

    id: str
    hit_count: int = 0

    def __post_init__(self) -> None:
        if not is_ulid(self.id):
            raise ValueError("a listing position holds a memory id (ULID)")
        if self.hit_count < 0:
            raise ValueError("a listing position holds a hit count of 0 or more")


@dataclass(frozen=True)
class Row:
    """A memory a listing found: its id and hit count."""

    id: str
    hit_count: int

    def value(self, key: str) -> int:
        """Its value of sort key `key` (`HIT_COUNT` or `CREATE_MS`)."""
        return self.hit_count if key == _HIT_COUNT else time_ms(self.id)


async def list_rows(
    search: Execute,
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    *,
    order: Order,
    after: Position | None,
    count: int,
) -> list[Row]:
    """The first `count` live memories of `ns` that `flt` keeps, in
    `order`, after `after` (from the start when None), found by `search`
    (`LegacySearch.run`: both indexes while schema 2's exists)."""
    keys = (_HIT_COUNT, _CREATE_MS) if order is Order.MOST_HIT else (_CREATE_MS,)
    last = None if after is None else Row(after.id, after.hit_count)
    return await _ordered(search, filter_query(ns, now_ms, flt), keys, last, count)


async def _ordered(
    search: Execute, query: str, keys: tuple[str, ...], after: Row | None, count: int
) -> list[Row]:
    """The first `count` memories `query` matches after `after`, by `keys`
    descending, then by id."""
    if not keys:
        return await _by_id(search, query, after, count)
    key, finer = keys[0], keys[1:]
    rows: list[Row] = []
    upper = "+inf"
    if after is not None:
        value = after.value(key)
        rows = await _ordered(search, f"{query} @{key}:[{value} {value}]", finer, after, count)
        upper = f"({value}"
    need = count - len(rows)
    if need == 0:
        return rows
    floor = _FLOORS.get(key)
    lower = "-inf" if floor is None else f"({floor}"
    found = await _top(search, f"{query} @{key}:[{lower} {upper}]", key, need)
    if len(found) < need:
        if floor is None or (after is not None and after.value(key) <= floor):
            return rows + found
        # The floor's group, most of a namespace, listed by the next key.
        group = f"{query} @{key}:[{floor} {floor}]"
        return rows + found + await _ordered(search, group, finer, None, need - len(found))
    cut = found[need - 1].value(key)
    above = [row for row in found[:need] if row.value(key) > cut]
    group = f"{query} @{key}:[{cut} {cut}]"
    return rows + above + await _ordered(search, group, finer, None, need - len(above))


async def _top(search: Execute, query: str, key: str, count: int) -> list[Row]:
    """The `count` memories of `query` with the highest `key`, and any
    more the indexes' replies hold, sorted by `key`, then by id."""
    reply = await search(
        "FT.SEARCH", INDEX, query, "SORTBY", key, "DESC", "LIMIT", 0, count,
        "RETURN", 2, ID, HIT_COUNT, "TIMEOUT", 0, "DIALECT", 4,
    )  # fmt: skip
    rows = []
    for at in range(1, len(reply), 2):
        fields = dict(zip(reply[at + 1][::2], reply[at + 1][1::2], strict=True))
        rows.append(Row(fields[_ID].decode(), int(fields.get(_HITS, b"1"))))
    return sorted(rows, key=lambda row: (row.value(key), row.id), reverse=True)


async def _by_id(search: Execute, query: str, after: Row | None, count: int) -> list[Row]:
    """The first `count` memories of `query` (one millisecond's) by id
    descending, after `after`."""
    steps: list[Arg] = [] if after is None else ["FILTER", f"@id < '{after.id}'"]
    reply = await search(
        "FT.AGGREGATE", INDEX, query, *steps, "SORTBY", 2, "@id", "DESC", "MAX", count,
        "LOAD", 1, f"@{_HIT_COUNT}", "TIMEOUT", 0, "DIALECT", 3,
    )  # fmt: skip
    found = [dict(zip(row[::2], row[1::2], strict=True)) for row in reply[1:]]
    rows = [Row(row[_ID].decode(), int(row.get(_HITS_LOADED, b"1"))) for row in found]
    return sorted(rows, key=lambda row: row.id, reverse=True)[:count]
