"""What the forgetting job (`jobs/forgetting.py`) reads and deletes: the
memories a namespace's `ForgettingPolicy` selects, found on the index of
`memory_index`, forgotten by `lua/memory_forget.lua`, each recorded as a
`memrpc.memory_forgotten` event in the namespace's memory-changes thread
(`memory_changes.CHANGES_THREAD`; keys: `keys.events(ns, CHANGES_THREAD)`
and the namespace feed).

Every query keeps the live (unexpired), unpinned memories of the namespace,
superseded ones included (history counts against the budget, and goes
when unrecalled, as it is never recalled by default):

- **unrecalled**: those whose `recalled` (else `create_ms`) is before a
  time (`memory_index.unrecalled_query`); one `FT.AGGREGATE`, a page of
  them with their id and recall time, then their versions (`HGET`s);
- **budget**: the users with more than the budget, one `FT.AGGREGATE`
  (`GROUPBY @user REDUCE COUNT`, no document read; memories without a user
  are one user, `none`); then per user, the least recently recalled, by
  `recalled`, or by creation for those no search returned yet (no
  `recalled`), ties by id: one query of each kind, each sorted, merged.

A forget call re-checks each memory as read (exists, not pinned, same
version and recall time: one a search returned meanwhile is kept) and, for
the budget, counts the user's memories again in the same step, so a run
never forgets below the budget whatever happens between its read and its
write. One call forgets at most `FORGET_BATCH` memories.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memrpc.limits import FORGET_BATCH
from memrpc.store import keys, scripts
from memrpc.store.events import Retention
from memrpc.store.memory_changes import CHANGES_THREAD, Change, ForgetRule
from memrpc.store.memory_document import (
    DEFAULT_VECTOR_TYPE,
    VERSION,
    VectorType,
)
from memrpc.store.memory_index import (
    INDEX,
    MemoryFilter,
    filter_query,
    unpinned_query,
    unrecalled_query,
)
from memrpc.store.memory_indexes import MemoryIndexes
from memrpc.store.redis_mux import Arg, RedisClient
from memrpc.store.script_args import MemoryForget

# The users of a budget query: the hex tag of `memory_index.index_fields`,
# `none` for no user.
_NO_USER = "none"


@dataclass(frozen=True)
class Candidate:
    """A memory a rule selects, as read: its key, its version, its recall
    time ('' when it has none) and its creation time."""

    key: str
    version: str
    recalled: str
    created: int


@dataclass(frozen=True)
class Forgot:
    """The outcome of a forget call: memories forgotten, and how many the
    budget still counts beyond what it keeps (0 without a budget)."""

    forgotten: int
    left: int


def _rows(reply: Sequence[Any]) -> list[dict[bytes, bytes]]:
    """The rows of an `FT.AGGREGATE` reply (RESP2), each as a dict."""
    return [dict(zip(row[::2], row[1::2], strict=True)) for row in reply[1:]]


def _user(tag: bytes) -> str:
    """A user id from its tag (`keys.tag_value`)."""
    value = tag.decode()
    return "" if value == _NO_USER else bytes.fromhex(value).decode()


class ForgettingStore:
    """The memories forgetting selects, and their forgetting."""

    def __init__(
        self,
        redis: RedisClient,
        retention: Retention,
        vector_type: VectorType = DEFAULT_VECTOR_TYPE,
    ) -> None:
        self._redis = redis
        self._retention = retention
        self._vector_type = vector_type
        self._forget = scripts.load(redis, MemoryForget)
        self._indexes = MemoryIndexes(redis)

    @staticmethod
    def _scope(ns: str, now_ms: int, user: str | None = None) -> str:
        """The memories a rule may forget (of `user` when given)."""
        flt = MemoryFilter(user_ids=() if user is None else (user,), include_superseded=True)
        return f"{filter_query(ns, now_ms, flt)} {unpinned_query()}"

    async def _candidates(self, ns: str, query: str, *steps: Arg) -> list[Candidate]:
        """The memories of `ns` that `query` keeps (`steps`: how many, in
        what order), with the values the index keeps of each (`SORTABLE` on
        a Redis Cluster, where Search cannot read the Hashes) and each one's
        version, read with pipelined `HGET`s."""
        reply = await self._indexes.run(ns, [
            "FT.AGGREGATE", INDEX, query, "LOAD", 3, "@id", "@recalled", "@create_ms",
            *steps, "TIMEOUT", 0, "DIALECT", 2,
        ])  # fmt: skip
        rows = _rows(reply)
        found = [keys.memory(ns, row[b"id"].decode()) for row in rows]
        versions = await asyncio.gather(
            *(self._redis.execute("HGET", key, VERSION) for key in found)
        )
        return [
            Candidate(
                key=key,
                version=(version or b"1").decode(),
                recalled=row.get(b"recalled", b"").decode(),
                created=int(row[b"create_ms"]),
            )
            for key, row, version in zip(found, rows, versions, strict=True)
        ]

    async def unrecalled(
        self, ns: str, now_ms: int, before_ms: int, *, count: int
    ) -> list[Candidate]:
        """At most `count` memories no search returned since `before_ms`."""
        query = f"{self._scope(ns, now_ms)} {unrecalled_query(before_ms)}"
        return await self._candidates(ns, query, "LIMIT", 0, count)

    async def over_budget(self, ns: str, now_ms: int, keep: int) -> list[tuple[str, int]]:
        """The users with more than `keep` memories, each with how many
        beyond it, the most first."""
        reply = await self._indexes.run(ns, [
            "FT.AGGREGATE", INDEX, self._scope(ns, now_ms),
            "GROUPBY", 1, "@user", "REDUCE", "COUNT", 0, "AS", "n",
            "FILTER", f"@n > {int(keep)}", "SORTBY", 2, "@n", "DESC",
            "TIMEOUT", 0, "DIALECT", 2,
        ])  # fmt: skip
        return [(_user(row[b"user"]), int(row[b"n"]) - keep) for row in _rows(reply)]

    async def least_recalled(
        self, ns: str, now_ms: int, user: str, *, count: int
    ) -> list[Candidate]:
        """A user's `count` least recently recalled memories, least first: by
        their recall time, else their creation."""
        scope = self._scope(ns, now_ms, user)
        found: list[Candidate] = []
        for part, sort in (("-", ["@id", "ASC"]), ("", ["@recalled", "ASC", "@id", "ASC"])):
            query = f"{scope} {part}@recalled:[-inf +inf]"
            found += await self._candidates(ns, query, "SORTBY", len(sort), *sort, "MAX", count)
        return sorted(found, key=_recalled_or_created)[:count]

    async def forget(
        self,
        ns: str,
        rule: ForgetRule,
        candidates: Sequence[Candidate],
        *,
        keep: int | None,
        now_ms: int,
        user: str = "",
    ) -> Forgot:
        """Forgets `candidates` (in order, `FORGET_BATCH` a call) that are as
        read; with `keep`, the budget of `user`: no more than those beyond it."""
        count_query = "" if keep is None else self._scope(ns, now_ms, user)
        total = Forgot(0, 0)
        for first in range(0, len(candidates), FORGET_BATCH):
            batch = candidates[first : first + FORGET_BATCH]
            forgotten, left = await self._forget(
                MemoryForget(
                    stream=keys.events(ns, CHANGES_THREAD),
                    feed=keys.feed(ns),
                    probe=keys.probe(ns),
                    documents=[candidate.key for candidate in batch],
                    rule=rule.value,
                    event_type=Change.FORGOTTEN.value,
                    thread=CHANGES_THREAD,
                    log_max_len=self._retention.log_max_len,
                    feed_max_len=self._retention.feed_max_len,
                    index=await self._indexes.of(ns),
                    count_query=count_query,
                    keep=keep or 0,
                    vector_type=self._vector_type,
                    expected=[(candidate.version, candidate.recalled) for candidate in batch],
                )
            )
            total = Forgot(total.forgotten + forgotten, left)
            if keep is not None and left == 0:
                break
        return total


def _recalled_or_created(candidate: Candidate) -> tuple[int, str]:
    """When a candidate was last recalled, else created; then its key (its
    id: its creation)."""
    return int(candidate.recalled or candidate.created), candidate.key
