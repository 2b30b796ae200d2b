"""Listing a namespace's memories in a stable order, page after page, on
the index of `memory_index`, each page in work bounded by its size, not by
the namespace's.

Two orders, both total (no two memories compare equal):

| order      | sorted by                                | keyset after the last memory `L` |
|------------|------------------------------------------|----------------------------------|
| `NEWEST`   | `id` descending                          | `id < L.id`                      |
| `MOST_HIT` | `hit_count` descending, then `id` desc.  | `hit_count < L.hit_count`, or    |
|            |                                          | equal and `id < L.id`            |

Each order is a chain of numeric keys, `hit_count` then `create_ms`
(`MOST_HIT`) or `create_ms` alone (`NEWEST`), ended by the id for the
memories of one millisecond (the items of one `CreateMemories`). A ULID's
first 48 bits are its creation time in ms (`store/ulid.py`), so a
position after one needs only its id; a client-chosen id
(`store/memory_ids.py`) says nothing of its time, so a position after one
carries its `create_ms` too, as the rows searches return do.

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
be a memory id first (a ULID, or a client's id of `[a-z0-9-]`), so no
caller's string is parsed as expression syntax; every other part of the
query is `filter_query`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from memrpc.store.memory_document import CREATE_MS, HIT_COUNT, ID
from memrpc.store.memory_ids import is_client_id
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
_CREATED = CREATE_MS.encode()
_HITS_LOADED = _HIT_COUNT.encode()
_CREATED_LOADED = _CREATE_MS.encode()


class Order(Enum):
    """The order of a listing."""

    NEWEST = "newest"
    MOST_HIT = "most_hit"


@dataclass(frozen=True)
class Position:
    """The last memory a page held: the next page starts right after it.
    `hit_count` is read by `MOST_HIT` only; `create_ms` is that of a
    client-chosen id (None for a ULID, whose id holds it)."""

    id: str
    hit_count: int = 0
    create_ms: int | None = None

    def __post_init__(self) -> None:
        if self.create_ms is None and not is_ulid(self.id):
            raise ValueError("a listing position holds a ULID, or an id with its create_ms")
        if self.create_ms is not None and not (is_client_id(self.id) and self.create_ms >= 0):
            raise ValueError("a listing position's create_ms goes with a client's memory id")
        if self.hit_count < 0:
            raise ValueError("a listing position holds a hit count of 0 or more")


@dataclass(frozen=True)
class Row:
    """A memory a listing found: its id, hit count and creation time (None:
    the one its ULID holds)."""

    id: str
    hit_count: int
    create_ms: int | None = None

    def value(self, key: str) -> int:
        """Its value of sort key `key` (`HIT_COUNT` or `CREATE_MS`)."""
        if key == _HIT_COUNT:
            return self.hit_count
        return time_ms(self.id) if self.create_ms is None else self.create_ms

    def position(self) -> Position:
        """The position right after this row."""
        client = is_client_id(self.id)
        return Position(self.id, self.hit_count, self.value(_CREATE_MS) if client else None)


def position(memory_id: str, hit_count: int, create_ms: int) -> Position:
    """The position right after a memory (of `create_ms`, which a ULID's
    position leaves to its id)."""
    return Position(memory_id, hit_count, create_ms if is_client_id(memory_id) else None)


def place(memory_id: str, create_ms: int) -> str:
    """A memory's place in the `NEWEST` order as text that sorts as the
    order does, older lower: its creation ms, then its id."""
    return f"{create_ms:015d}:{memory_id}"


def place_position(text: str) -> Position:
    """The position of a `place` (or of a bare ULID: a place kept before
    client ids)."""
    if ":" not in text:
        return Position(text)
    ms, memory_id = text.split(":", 1)
    return position(memory_id, 0, int(ms))


def placed(text: str) -> str:
    """A `place`, or a bare ULID kept before client ids as its place; ''
    stays ''."""
    if not text or ":" in text:
        return text
    return place(text, time_ms(text))


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
    last = None if after is None else Row(after.id, after.hit_count, after.create_ms)
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
        "RETURN", 3, ID, HIT_COUNT, CREATE_MS, "TIMEOUT", 0, "DIALECT", 4,
    )  # fmt: skip
    rows = []
    for at in range(1, len(reply), 2):
        fields = dict(zip(reply[at + 1][::2], reply[at + 1][1::2], strict=True))
        rows.append(_row(fields, _HITS, _CREATED))
    return sorted(rows, key=lambda row: (row.value(key), row.id), reverse=True)


async def _by_id(search: Execute, query: str, after: Row | None, count: int) -> list[Row]:
    """The first `count` memories of `query` (one millisecond's) by id
    descending, after `after`."""
    steps: list[Arg] = [] if after is None else ["FILTER", f"@id < '{after.id}'"]
    reply = await search(
        "FT.AGGREGATE", INDEX, query, *steps, "SORTBY", 2, "@id", "DESC", "MAX", count,
        "LOAD", 2, f"@{_HIT_COUNT}", f"@{_CREATE_MS}", "TIMEOUT", 0, "DIALECT", 3,
    )  # fmt: skip
    found = [dict(zip(row[::2], row[1::2], strict=True)) for row in reply[1:]]
    rows = [_row(row, _HITS_LOADED, _CREATED_LOADED) for row in found]
    return sorted(rows, key=lambda row: row.id, reverse=True)[:count]


def _row(fields: dict[bytes, bytes], hits: bytes, created: bytes) -> Row:
    """A row from a reply's fields, named `hits` and `created` there."""
    create_ms = fields.get(created)
    return Row(
        fields[_ID].decode(),
        int(fields.get(hits, b"1")),
        None if create_ms is None else int(create_ms),
    )
