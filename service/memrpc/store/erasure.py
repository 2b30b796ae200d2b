"""Erasing one user of a namespace from every tier (`Administration.EraseUser`).

The user's threads come from the durable record of every thread a session
of the user was ever on (`keys.user_threads`), so threads whose sessions
expired are found too. In order, each step bounded to `ERASURE_STEP_KEYS`
entries or keys per command:

1. the namespace feed: the entries of the user's threads, and the memory
   changes (`CHANGES_THREAD`) whose payload names the user, acknowledged in
   every consumer group (the background jobs' too) and then deleted; the
   same entries among the jobs' dead letters. First, so that no job forms
   memories from them while the rest goes;
2. each thread's session (working memory, window and summary, through
   `WorkingStore.delete`, which keeps the listing indexes right) when it is
   the user's, its event log, and its checkpoints (`CheckpointStore.prune`:
   every checkpoint namespace, with the pending writes and run entries); the
   memory changes about the user in the changes thread's log;
3. the request-id records of appends to the user's threads (their keys
   name the thread), found by `SCAN` over the namespace's request records;
4. the user's record of threads and per-user session index;
5. the user's long-term memories, superseded ones included, with their
   access statistics and merge history (`LongTermStore.delete_matching`).

Deleting an entry from a thread's log leaves a gap the next entry's `prev`
points across: a reader resuming from before it is told events were
removed, as it is for trimmed events. Writes for the user that run during
the erasure may survive it. Erasing again is safe: what is gone is not
counted twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

from memrpc.limits import ERASURE_STEP_KEYS
from memrpc.store import keys
from memrpc.store.checkpoints import CheckpointStore
from memrpc.store.long_term import LongTermStore
from memrpc.store.memory_changes import CHANGES_THREAD
from memrpc.store.memory_index import MemoryFilter
from memrpc.store.namespace_scan import scan_pages
from memrpc.store.redis_mux import RedisClient
from memrpc.store.working import WorkingStore

# The request-id records whose keys end with a thread id, by key prefix
# (`keys.append_request`, `keys.turns_request`).
_REQUEST_PREFIXES = ("evreq", "turnreq")


@dataclass
class Erased:
    """What an erasure removed (`ErasureCounts` in administration.proto)."""

    sessions: int = 0
    threads: int = 0
    thread_events: int = 0
    feed_entries: int = 0
    pending_entries: int = 0
    dead_letters: int = 0
    memories: int = 0
    change_events: int = 0
    request_records: int = 0
    checkpoints: int = 0

    def as_dict(self) -> dict[str, int]:
        """Each count by name."""
        return {field.name: getattr(self, field.name) for field in fields(self)}


def _fields(flat: Sequence[bytes]) -> dict[bytes, bytes]:
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


class Eraser:
    """Erases users of namespaces."""

    def __init__(
        self,
        redis: RedisClient,
        working: WorkingStore,
        long_term: LongTermStore,
        checkpoints: CheckpointStore,
    ) -> None:
        self._redis = redis
        self._working = working
        self._long_term = long_term
        self._checkpoints = checkpoints

    async def erase(self, ns: str, user: str) -> Erased:
        """Removes every trace of `user` from `ns`; returns what was removed."""
        erased = Erased()
        threads = await self._threads(ns, user)
        names = {thread.encode() for thread in threads}
        user_bytes = user.encode()

        def is_users(entry: dict[bytes, bytes]) -> bool:
            thread = entry.get(b"thread", b"")
            if thread == CHANGES_THREAD.encode():
                return _names_user(entry, user_bytes)
            return thread in names

        feed = keys.feed(ns)
        groups = await self._groups(feed)
        erased.feed_entries, erased.pending_entries = await self._delete_entries(
            feed, is_users, groups
        )
        erased.dead_letters, _ = await self._delete_entries(keys.dead_letters(ns), is_users, [])
        for thread in threads:
            if await self._erase_session(ns, thread, user_bytes):
                erased.sessions += 1
            log = keys.events(ns, thread)
            events = int(await self._redis.execute("XLEN", log))
            if await self._redis.execute("UNLINK", log):
                erased.threads += 1
                erased.thread_events += events
            erased.checkpoints += await self._checkpoints.prune(ns, thread, keep_latest=False)
        erased.change_events, _ = await self._delete_entries(
            keys.events(ns, CHANGES_THREAD), lambda entry: _names_user(entry, user_bytes), []
        )
        erased.request_records = await self._delete_request_records(ns, names)
        await self._redis.execute(
            "UNLINK", keys.user_threads(ns, user), keys.session_user_index(ns, user)
        )
        erased.memories = await self._long_term.delete_matching(
            ns, MemoryFilter(user_ids=(user,), include_superseded=True)
        )
        return erased

    async def _threads(self, ns: str, user: str) -> list[str]:
        threads: list[str] = []
        after: str | None = None
        while page := await self._working.user_threads(
            ns, user, after=after, count=ERASURE_STEP_KEYS
        ):
            threads += [thread for thread, _ in page]
            after = page[-1][0]
        return threads

    async def _erase_session(self, ns: str, thread: str, user: bytes) -> bool:
        """Deletes the thread's session if it is the user's (another user's
        session on the same thread id stays)."""
        owner = await self._redis.execute("HGET", keys.session(ns, thread), "user_id")
        return owner == user and await self._working.delete(ns, thread, expected=None)

    async def _groups(self, stream: str) -> list[bytes]:
        if not await self._redis.execute("EXISTS", stream):
            return []
        groups = await self._redis.execute("XINFO", "GROUPS", stream)
        return [_fields(group)[b"name"] for group in groups]

    async def _delete_entries(
        self,
        stream: str,
        chosen: Callable[[dict[bytes, bytes]], bool],
        groups: Sequence[bytes],
    ) -> tuple[int, int]:
        """Deletes the entries of `stream` that `chosen` picks, after
        acknowledging them in each of `groups`; returns (entries deleted,
        acknowledgements made)."""
        deleted = acknowledged = 0
        start = "-"
        while page := await self._redis.execute(
            "XRANGE", stream, start, "+", "COUNT", ERASURE_STEP_KEYS
        ):
            ids = [entry_id for entry_id, flat in page if chosen(_fields(flat))]
            if ids:
                for group in groups:
                    acknowledged += int(await self._redis.execute("XACK", stream, group, *ids))
                deleted += int(await self._redis.execute("XDEL", stream, *ids))
            if len(page) < ERASURE_STEP_KEYS:
                break
            start = "(" + page[-1][0].decode()
        return deleted, acknowledged

    async def _delete_request_records(self, ns: str, threads: set[bytes]) -> int:
        """Deletes the request-id records of appends to `threads`: keys
        `memrpc:<kind>req:{ns}:<request>:<thread>`, request ids holding no `:`."""
        if not threads:
            return 0
        deleted = 0
        prefixes = [f"{keys.PREFIX}:{kind}:{{{ns}}}:".encode() for kind in _REQUEST_PREFIXES]
        pattern = f"{keys.PREFIX}:*req:{{{ns}}}:*"
        async for found in scan_pages(self._redis, ns, pattern, ERASURE_STEP_KEYS):
            doomed = [key for key in found if _request_thread(key, prefixes) in threads]
            if doomed:
                deleted += int(await self._redis.execute("UNLINK", *doomed))
        return deleted


def _names_user(entry: dict[bytes, bytes], user: bytes) -> bool:
    """Whether a memory-change event's payload names `user`."""
    payload = entry.get(b"json")
    if payload is None:
        return False
    try:
        found = json.loads(payload)
    except ValueError:
        return False
    return isinstance(found, dict) and str(found.get("user_id", "")).encode() == user


def _request_thread(key: bytes, prefixes: Sequence[bytes]) -> bytes | None:
    for prefix in prefixes:
        if key.startswith(prefix):
            return key[len(prefix) :].partition(b":")[2]
    return None
