"""Reading a namespace's data for an export (`api/portability.py`), page by
page, so that what the reader holds at any time is bounded by its page size,
not by the namespace.

Where each kind of record comes from:

| records      | read from                                                        |
|--------------|------------------------------------------------------------------|
| sessions     | a `SCAN` of `memrpc:ses:{ns}:*` (a user's: the threads of the    |
|              | user's durable threads, `keys.user_threads`, whose session is    |
|              | still the user's)                                                |
| user threads | a `SCAN` of `memrpc:userthreads:{ns}:*`, each set read by rank   |
|              | in pages (a user's: that one set)                                |
| events       | a `SCAN` of `memrpc:ev:{ns}:*`: every thread log, those of       |
|              | threads with a session and those without (the server's           |
|              | `memrpc.memories` thread, threads only `AppendEvents` wrote);    |
|              | each log read oldest first by `XRANGE` pages (a user's: the logs |
|              | of the user's durable threads)                                   |
| memories     | the listing of `memory_listing` (newest first, superseded ones   |
|              | too), each page's Hashes read by one `HGETALL` each, sent        |
|              | together                                                         |
| checkpoints  | a `SCAN` of `memrpc:cpthread:{ns}:*`: every thread with          |
|              | checkpoints (a user's: the user's durable threads); each of its  |
|              | checkpoint namespaces read newest first in pages, each page one  |
|              | script with the pending writes (`CheckpointStore.read`)          |

`SCAN ... MATCH` runs on the node of the namespace's slot (a Redis
Cluster's primary holding `{ns}`); a key is kept only when it starts with
the kind's prefix of exactly this namespace (`memrpc:ev:{ns}:`), so a
namespace whose name another's begins with is never mixed in. `SCAN` may
return a key twice (while Redis resizes its table): the import takes a
repeated record as a repeat (`store/import_writer.py`).

The export is no snapshot: what is written meanwhile may or may not be in
it, and a key may be gone (expired) by the time it is read: it is skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from memrpc.store import keys, memory_document
from memrpc.store.checkpoints import CheckpointStore, StoredCheckpoint
from memrpc.store.events import StoredEvent, thread_event
from memrpc.store.long_term import LongTermStore, Memory, parse_memory
from memrpc.store.memory_document import READ_FIELDS
from memrpc.store.memory_index import MemoryFilter, ModelField
from memrpc.store.memory_listing import Order, Position, list_rows
from memrpc.store.namespace_scan import scan_pages
from memrpc.store.redis_mux import RedisClient

Fields = dict[bytes, bytes]
# How many keys, entries or memories one read asks for: a page. `SCAN
# COUNT` is a hint of how many slots Redis walks, so its replies hold about
# as many keys.
PAGE_SIZE = 200


@dataclass(frozen=True)
class ExportedSession:
    """A session's thread and Hash fields."""

    thread: str
    fields: Fields


@dataclass(frozen=True)
class ExportedUserThreads:
    """A page of a user's durable threads, (thread, first seen ms) oldest
    first; `first` when it is the set's first page."""

    user: str
    threads: list[tuple[str, int]]


@dataclass(frozen=True)
class ExportedMemory:
    """A memory, its vector in the namespace's model field as stored (b''
    when it has none), the last search that returned it (None: none did)
    and its number in the namespace's order of writing (0: none)."""

    memory: Memory
    vector: bytes
    recalled_ms: int | None
    seq: int


class ExportReader:
    """Reads one namespace's records for an export, in pages of `page_size`."""

    def __init__(
        self, redis: RedisClient, long_term: LongTermStore, *, page_size: int = PAGE_SIZE
    ) -> None:
        self._redis = redis
        self._long_term = long_term
        self._checkpoints = CheckpointStore(redis)
        self.page_size = page_size

    async def _scan(self, ns: str, prefix: str) -> AsyncIterator[list[str]]:
        """Pages of the keys of namespace `ns` starting with `prefix` (a
        key prefix ending in the namespace's tag and `:`), each page one
        `SCAN` on the namespace's node."""
        async for found in scan_pages(self._redis, ns, f"{prefix}*", self.page_size):
            page = [key.decode() for key in found if key.decode().startswith(prefix)]
            if page:
                yield page

    # -- Sessions --------------------------------------------------------

    async def sessions(self, ns: str) -> AsyncIterator[list[ExportedSession]]:
        """Pages of the namespace's live sessions."""
        prefix = keys.session(ns, "")
        async for page in self._scan(ns, prefix):
            threads = [key.removeprefix(prefix) for key in page]
            found = await self._sessions(ns, threads)
            if found:
                yield found

    async def user_sessions(self, ns: str, user: str) -> AsyncIterator[list[ExportedSession]]:
        """Pages of the live sessions of `user`: of the user's durable
        threads, those whose session is still the user's."""
        async for page in self.user_threads_of(ns, user):
            found = await self._sessions(ns, [thread for thread, _ in page.threads])
            mine = [s for s in found if s.fields.get(b"user_id", b"").decode() == user]
            if mine:
                yield mine

    async def _sessions(self, ns: str, threads: Sequence[str]) -> list[ExportedSession]:
        replies = await _together(
            self._redis, [("HGETALL", keys.session(ns, thread)) for thread in threads]
        )
        return [
            ExportedSession(thread, _pairs(flat))
            for thread, flat in zip(threads, replies, strict=True)
            if flat
        ]

    # -- Users' threads --------------------------------------------------

    async def users(self, ns: str) -> AsyncIterator[str]:
        """The users of the namespace with durable threads (once each, but
        for a repeat of `SCAN`)."""
        prefix = keys.user_threads(ns, "x").rsplit(":", 1)[0] + ":"
        async for page in self._scan(ns, prefix):
            for key in page:
                hexed = key.removeprefix(prefix)
                try:
                    yield memory_document.unhex(hexed)
                except ValueError:  # not a key this version writes
                    continue

    async def user_threads_of(self, ns: str, user: str) -> AsyncIterator[ExportedUserThreads]:
        """Pages of `user`'s durable threads, oldest first, by rank (the
        set only grows: an entry added meanwhile with an earlier time, by
        another server's clock, may shift a page by one)."""
        index = keys.user_threads(ns, user)
        start = 0
        while True:
            flat = await self._redis.execute(
                "ZRANGE", index, start, start + self.page_size - 1, "WITHSCORES"
            )
            page = [(flat[i].decode(), int(float(flat[i + 1]))) for i in range(0, len(flat), 2)]
            if page:
                yield ExportedUserThreads(user, page)
            if len(page) < self.page_size:
                return
            start += len(page)

    # -- Events ----------------------------------------------------------

    async def threads(self, ns: str) -> AsyncIterator[list[str]]:
        """Pages of the threads of the namespace that have a log."""
        prefix = keys.events(ns, "")
        async for page in self._scan(ns, prefix):
            yield [key.removeprefix(prefix) for key in page]

    async def events(self, ns: str, thread: str) -> AsyncIterator[list[StoredEvent]]:
        """Pages of a thread's events, oldest first."""
        key = keys.events(ns, thread)
        low = "-"
        while True:
            entries = await self._redis.execute("XRANGE", key, low, "+", "COUNT", self.page_size)
            if entries:
                yield [thread_event(thread, entry) for entry in entries]
            if len(entries) < self.page_size:
                return
            low = "(" + entries[-1][0].decode()

    # -- Memories --------------------------------------------------------

    async def memories(
        self, ns: str, user: str | None, field: ModelField, now_ms: int
    ) -> AsyncIterator[list[ExportedMemory]]:
        """Pages of the namespace's live memories (`user`'s only, unless
        None), superseded ones too, newest first, each with its vector of
        `field`."""
        flt = MemoryFilter(user_ids=() if user is None else (user,), include_superseded=True)
        search = self._long_term.searches(ns)
        after: Position | None = None
        while True:
            rows = await list_rows(
                search, ns, now_ms, flt, order=Order.NEWEST, after=after, count=self.page_size
            )
            if not rows:
                return
            replies = await _together(
                self._redis, [("HGETALL", keys.memory(ns, row.id)) for row in rows]
            )
            page = [_memory(_pairs(flat), field) for flat in replies if flat]
            if page:
                yield page
            if len(rows) < self.page_size:
                return
            after = rows[-1].position()

    # -- Checkpoints -----------------------------------------------------

    async def checkpoint_threads(self, ns: str) -> AsyncIterator[list[str]]:
        """Pages of the threads of the namespace that have checkpoints."""
        prefix = keys.checkpoint_thread(ns, "x").rsplit(":", 1)[0] + ":"
        async for page in self._scan(ns, prefix):
            threads = []
            for key in page:
                try:
                    threads.append(memory_document.unhex(key.removeprefix(prefix)))
                except ValueError:  # not a key this version writes
                    continue
            yield threads

    async def checkpoints(
        self, ns: str, thread: str
    ) -> AsyncIterator[tuple[str, list[StoredCheckpoint]]]:
        """Pages of a thread's checkpoints with their pending writes, each
        page of one checkpoint namespace (named first), newest first."""
        for cpns in await self._checkpoints.namespaces(ns, thread):
            before = ""
            while True:
                page = await self._checkpoints.read(
                    ns, thread, cpns, before=before, count=self.page_size
                )
                if page:
                    yield cpns, page
                if len(page) < self.page_size:
                    break
                before = page[-1].checkpoint_id


async def _together(redis: RedisClient, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
    """The replies of `commands`, sent together on the shared connection
    (pipelined), in order."""
    return list(await asyncio.gather(*(redis.execute(*command) for command in commands)))


def _pairs(flat: Sequence[bytes]) -> Fields:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _memory(found: Fields, field: ModelField) -> ExportedMemory:
    recalled = found.get(memory_document.RECALLED_MS.encode())
    return ExportedMemory(
        parse_memory([found.get(name.encode()) for name in READ_FIELDS]),
        found.get(field.hash.encode(), b""),
        None if recalled is None else int(recalled),
        int(found.get(memory_document.SEQ.encode(), b"0")),
    )
