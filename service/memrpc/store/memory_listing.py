"""Listing a namespace's memories in a stable order, page after page, on
the index of `memory_index`.

Two orders, both total (no two memories compare equal):

| order      | sorted by                                | keyset after the last memory `L` |
|------------|------------------------------------------|----------------------------------|
| `NEWEST`   | `id` descending                          | `id < L.id`                      |
| `MOST_HIT` | `hit_count` descending, then `id` desc.  | `hit_count < L.hit_count`, or    |
|            |                                          | equal and `id < L.id`            |

Ids are ULIDs whose first 48 bits are the creation time in ms
(`store/ulid.py`, `memory.create_ms`), so ordering by id is ordering by
creation time with the memories of one millisecond (all the items of one
`CreateMemories`) ordered by the rest of their id: newest first, ties
broken by id, is one string order, and no tie group needs fetching apart.

A page is one `FT.AGGREGATE`, not `FT.SEARCH`: `FT.SEARCH` sorts by one
field, and the ties of `hit_count` are most of a namespace (every memory
written once), which keyset paging could only step through by offsets.
`FT.AGGREGATE` sorts by both fields from their sortable values, without
reading the documents:

    FT.AGGREGATE idx '<filter> @create_ms:[-inf ms]'                  (NEWEST)
                     '<filter> (@hit_count:[-inf (h] |
                                (@hit_count:[h h] @create_ms:[-inf ms]))' (MOST_HIT)
      FILTER "@id < 'L'" / "@hit_count < h || @id < 'L'"
      SORTBY 2|4 @hit_count DESC @id DESC MAX n
      LOAD 1 @__key
      TIMEOUT 0 DIALECT 3

(`L` the last memory listed, `h` its hit count, `ms` its creation time.)
The numeric ranges of the query narrow the candidates to the memories after
the position but for those of its millisecond (a deep page examines fewer
memories than the first), the `FILTER` drops those already listed,
`SORTBY ... MAX n` keeps the first `n` in a heap, and only their keys are
loaded: `LongTermStore.list_page` reads the memories with `HMGET`s that
stop at the page's byte budget, so a page of large memories reads little
more than it can send. No offset is ever used, so a deep page costs no more
than the first, and a memory deleted or created meanwhile shifts nothing:
each page starts strictly after the last memory sent.

What a page does cost grows with its candidates: Search sorts every memory
the query matches, from the sortable values, about 0.25 to 0.5 us each
(`bench/list_memories.py`, 10,000 memories: a first page of 50 in about
6 ms, a page of 50 after 9,000 in 1.2 to 1.5 ms; a numeric sort key instead
of the id would save about a third). Sorting the ULIDs as they are keeps the
index at two small sortable fields, read from what every document already
holds.

`TIMEOUT 0`: a page cut short by the module's timeout (500 ms, partial
results by default) would be sorted from some of the candidates only, and
the pages after it would skip memories.

The position's id reaches the `FILTER` expression quoted: it is checked to
be a ULID first (Crockford base 32 only), so no caller's string is parsed
as expression syntax; every other part of the query is `filter_query`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from memrpc.store.memory_index import INDEX, MemoryFilter, filter_query
from memrpc.store.redis_mux import Arg
from memrpc.store.ulid import is_ulid, time_ms

# The field of each row that holds its document's key.
KEY_FIELD = "__key"


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


def list_command(
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    order: Order,
    after: Position | None,
    *,
    count: int,
) -> list[Arg]:
    """The `FT.AGGREGATE` of the first `count` live memories of `ns` that
    `flt` keeps, in `order`, after `after` (from the start when None); each
    row holds its document's key (`KEY_FIELD`) and the
    sort keys."""
    query = filter_query(ns, now_ms, flt)
    steps: list[Arg] = []
    if after is not None:
        if order is Order.NEWEST:
            query += f" @create_ms:[-inf {time_ms(after.id)}]"
            steps += ["FILTER", f"@id < '{after.id}'"]
        else:
            hits, ms = after.hit_count, time_ms(after.id)
            same_hits = f"@hit_count:[{hits} {hits}] @create_ms:[-inf {ms}]"
            query += f" (@hit_count:[-inf ({hits}] | ({same_hits}))"
            steps += ["FILTER", f"@hit_count < {after.hit_count} || @id < '{after.id}'"]
    sort: list[Arg] = ["@id", "DESC"]
    if order is Order.MOST_HIT:
        sort = ["@hit_count", "DESC", *sort]
    return [
        "FT.AGGREGATE", INDEX, query, *steps,
        "SORTBY", len(sort), *sort, "MAX", count,
        "LOAD", 1, f"@{KEY_FIELD}",
        "TIMEOUT", 0, "DIALECT", 3,
    ]  # fmt: skip


def merged_rows(order: Order, rows: Sequence[Any], count: int) -> list[dict[bytes, Any]]:
    """The first `count` rows, in `order`, of the `list_command` replies of
    two indexes (while schema 2's is migrated: `store/legacy_search.py`),
    each row as its fields; one index's rows as they are."""
    found = [dict(zip(row[::2], row[1::2], strict=True)) for row in rows]
    return sorted(found, key=_sort_key(order), reverse=True)[:count]


def _sort_key(order: Order) -> Any:
    if order is Order.NEWEST:
        return lambda row: row.get(b"id", b"")
    return lambda row: (int(row.get(b"hit_count", b"0")), row.get(b"id", b""))
