"""Working memory: one Redis Hash per thread.

| field        | holds                                               |
|--------------|-----------------------------------------------------|
| `user_id`    | the thread's user ('' for none)                     |
| `user_idx`   | that user's listing index key (internal)            |
| `goal`       | the current goal                                    |
| `scratchpad` | the running notes                                   |
| `turns`      | the recent-turns window, a JSON array, oldest first |
| `turn_sizes` | the byte length of each entry of `turns`, comma-separated |
| `turn_ids`   | the event id of each entry of `turns`, comma-separated ('' unknown) |
| `metadata`   | a JSON object of strings                            |
| `create_ms`, `update_ms`, `ttl_ms`, `version`, `turn_count` | integers |
| `evicted_count` | how many turns (of known id) have left the window |
| `evicted_last`  | the event id of the newest of them                |
| `folded_through` | the log's event id the summary folds through (at first: the log's newest) |
| `summary`    | the running summary's text                          |
| `summary_first`, `summary_last` | the event ids of the first and last turn folded |
| `summary_turns`, `summary_skipped` | turns folded; turns trimmed before they could be |
| `summary_ms`, `summarizer` | when the last fold was written, and by which summarizer |
| `formed_through` | the log's event id memories are formed through (at first: the log's newest) |
| `formed_turns`, `formed_skipped` | turns formed into memories; turns trimmed first |
| `form_memories` | `1` or `0`: the thread's own choice of formation (absent: none) |

Every write is one Lua script: version check, fields, TTL and listing
indexes change together, and appended turns are recorded in the event log
in the same step. An append of turns with a request id is remembered apart
from the session (`store/request_ids.py`, key `keys.turns_request`), in the
same step too. The `evicted_*`, `folded_through` and `summary*` fields are
the running summary's (`store/summaries.py`): the writes here count the
turns that leave the window (evicted by an append, or the window emptied by
an update), the fold job folds them in. The `formed_*` fields are memory
formation's (`store/formation.py`), on the same count of evicted turns;
`form_memories` is written by appends that make a choice, and outranks the
namespace's setting there.

A session with a user adds its thread to the user's durable threads
(`keys.user_threads`), which outlive the session: `user_threads` pages
through them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from memrpc.store import keys, request_ids, scripts
from memrpc.store.events import Retention
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisClient
from memrpc.store.request_ids import RequestId
from memrpc.store.script_args import AppendTurns, DeleteSession, ListSessions, SessionUpdate
from memrpc.store.versions import VersionMismatch

Fields = dict[bytes, bytes]
# The `turns` of a session without turns.
EMPTY_WINDOW = "[]"
# The most listing-index entries one ListSessions call examines beyond its
# page size: the bound on its Redis time however many expired sessions the
# index holds (each costs a read and a removal; 500 take about 2 ms).
LIST_SCAN_BUDGET = 500


@dataclass(frozen=True)
class Appended:
    """The outcome of an append of turns; `replayed` when a repeated request
    id returned an earlier append's outcome instead of appending."""

    version: int
    evicted: int
    turn_count: int
    event_ids: list[str]
    replayed: bool


@dataclass(frozen=True)
class Listed:
    """A session in a listing, with its listing position (score)."""

    thread_id: str
    score: str
    fields: Fields


@dataclass(frozen=True)
class Listing:
    """A page of sessions, and the cursor to go on from (None at the end)."""

    sessions: list[Listed]
    after: tuple[str, str] | None


def _fields(flat: Sequence[bytes]) -> Fields:
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _expected(version: int | None) -> str:
    return "" if version is None else str(version)


def _user_index(ns: str, user: str) -> str:
    return keys.session_user_index(ns, user) if user else ""


def _user_threads(ns: str, user: str) -> str:
    return keys.user_threads(ns, user) if user else ""


def window_ids(fields: Fields, count: int) -> list[str]:
    """The event id of each of the `count` entries of a session's window
    (`turn_ids`), '' for an unknown one; all unknown when the field does not
    hold `count` ids (a session written before ids were kept)."""
    ids = fields.get(b"turn_ids", b"").decode().split(",") if count else []
    return ids if len(ids) == count else [""] * count


class WorkingStore:
    """Reads and writes sessions."""

    def __init__(self, redis: RedisClient, retention: Retention) -> None:
        self._redis = redis
        self._retention = retention
        self._update = scripts.load(redis, SessionUpdate)
        self._append = scripts.load(redis, AppendTurns)
        self._delete = scripts.load(redis, DeleteSession)
        self._list = scripts.load(redis, ListSessions)
        # The namespaces with turns, for the background jobs.
        self.namespaces = NamespaceSet(redis)

    async def get(self, ns: str, thread: str) -> Fields | None:
        """The session's fields: one HGETALL. The remaining TTL follows from
        `update_ms` + `ttl_ms`, written by the same script as the PEXPIRE."""
        flat = await self._redis.execute("HGETALL", keys.session(ns, thread))
        return _fields(flat) if flat else None

    async def update(
        self,
        ns: str,
        thread: str,
        *,
        now_ms: int,
        ttl_ms: int,
        expected: int | None,
        user: str | None,
        values: Mapping[str, str],
    ) -> Fields:
        """Writes `values` (and the user, unless None); returns all fields.
        `turns` can only be emptied (`EMPTY_WINDOW`) here: its turns count
        as having left the window."""
        reply = await self._update(
            SessionUpdate(
                session=keys.session(ns, thread),
                index=keys.session_index(ns),
                stream=keys.events(ns, thread),
                feed=keys.feed(ns),
                thread=thread,
                now_ms=now_ms,
                ttl_ms=ttl_ms,
                expected_version=_expected(expected),
                set_user="0" if user is None else "1",
                user=user or "",
                user_index=_user_index(ns, user or ""),
                user_threads=_user_threads(ns, user or ""),
                log_max_len=self._retention.log_max_len,
                feed_max_len=self._retention.feed_max_len,
                fields=list(values.items()),
            )
        )
        if reply[0] == 0:
            raise VersionMismatch(int(reply[1]))
        return _fields(reply[1])

    async def append_turns(
        self,
        ns: str,
        thread: str,
        *,
        now_ms: int,
        ttl_ms: int,
        expected: int | None,
        window: int,
        window_bytes: int,
        user: str,
        turns: Sequence[tuple[bytes, str]],
        request: RequestId | None = None,
        form_memories: bool | None = None,
    ) -> Appended:
        """Appends turns, each a (window entry, event payload) JSON pair; the
        oldest leave the window beyond `window` turns or `window_bytes` bytes
        of entries (each entry must fit alone). Records the thread's choice
        of memory formation, unless `form_memories` is None (the session
        keeps the one it has). With a `request`, only once
        in `request_ids.REMEMBER_MS`: a repeat returns the first append's
        outcome, whatever the session's version now (or `RequestIdReused`
        if its fingerprint differs)."""
        remembered = request_ids.script_args(
            request, lambda request_id: keys.turns_request(ns, request_id, thread)
        )
        reply = await self._append(
            AppendTurns(
                session=keys.session(ns, thread),
                index=keys.session_index(ns),
                stream=keys.events(ns, thread),
                feed=keys.feed(ns),
                request=remembered.keys,
                thread=thread,
                now_ms=now_ms,
                ttl_ms=ttl_ms,
                expected_version=_expected(expected),
                window_turns=window,
                window_bytes=window_bytes,
                log_max_len=self._retention.log_max_len,
                feed_max_len=self._retention.feed_max_len,
                user=user,
                user_index=_user_index(ns, user),
                user_threads=_user_threads(ns, user),
                fingerprint=remembered.fingerprint,
                remember_ms=remembered.remember_ms,
                form_memories="" if form_memories is None else str(int(form_memories)),
                turns=turns,
            )
        )
        if reply[0] == 0:
            raise VersionMismatch(int(reply[1]))
        replayed = request_ids.replayed(reply[0])
        _, version, evicted, count, *ids = reply
        return Appended(int(version), int(evicted), int(count), [i.decode() for i in ids], replayed)

    async def delete(self, ns: str, thread: str, *, expected: int | None) -> bool:
        """Deletes the session, at version `expected` unless None; False when
        it does not exist and no version was expected, `VersionMismatch`
        when one was and the session is not at it (current 0: it does not
        exist)."""
        deleted, *current = await self._delete(
            DeleteSession(
                session=keys.session(ns, thread),
                index=keys.session_index(ns),
                thread=thread,
                expected_version=_expected(expected),
            )
        )
        if deleted:
            return True
        if expected is None:
            return False
        raise VersionMismatch(int(current[0]))

    async def list(
        self, ns: str, user: str, *, size: int, full: bool, after: tuple[str, str] | None
    ) -> Listing:
        """Up to `size` live sessions after the (score, thread) cursor, most
        recently updated first, examining at most `max(size, LIST_SCAN_BUDGET)`
        index entries: the expired ones are removed from the index as they
        are met, and a page can come back short (even empty) with a cursor
        when the budget runs out (see `lua/list_sessions.lua`)."""
        index = keys.session_user_index(ns, user) if user else keys.session_index(ns)
        score, thread = after or ("+inf", "")
        next_score, next_thread, flat = await self._list(
            ListSessions(
                index=index,
                prefix=keys.session(ns, ""),
                page_size=size,
                full="1" if full else "0",
                cursor_score=score,
                cursor_thread=thread,
                budget=max(size, LIST_SCAN_BUDGET),
            )
        )
        sessions = [
            Listed(flat[i].decode(), flat[i + 1].decode(), _fields(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]
        cursor = (next_score.decode(), next_thread.decode()) if next_score else None
        return Listing(sessions, cursor)

    async def user_threads(
        self, ns: str, user: str, *, after: str | None, count: int
    ) -> Sequence[tuple[str, int]]:
        """Up to `count` of the threads a session of `user` was ever on, as
        (thread, first seen ms), in the order they were first seen, after
        the thread `after` (None: from the first). The index keeps every
        thread for good (sessions expiring or deleted leave it as it is), so
        `after` is always found in it; entries added meanwhile with an
        earlier time (another server's clock) may be missed."""
        index = keys.user_threads(ns, user)
        start = 0
        if after is not None:
            rank = await self._redis.execute("ZRANK", index, after)
            if rank is None:
                raise KeyError(after)
            start = int(rank) + 1
        flat = await self._redis.execute("ZRANGE", index, start, start + count - 1, "WITHSCORES")
        return [(flat[i].decode(), int(float(flat[i + 1]))) for i in range(0, len(flat), 2)]
