"""Working memory: one Redis Hash per thread.

| field        | holds                                               |
|--------------|-----------------------------------------------------|
| `user_id`    | the thread's user ('' for none)                     |
| `user_idx`   | that user's listing index key (internal)            |
| `goal`       | the current goal                                    |
| `scratchpad` | the running notes                                   |
| `turns`      | the recent-turns window, a JSON array, oldest first |
| `turn_sizes` | the byte length of each entry of `turns`, comma-separated |
| `metadata`   | a JSON object of strings                            |
| `create_ms`, `update_ms`, `ttl_ms`, `version`, `turn_count` | integers |

Every write is one Lua script: version check, fields, TTL and listing
indexes change together, and appended turns are recorded in the event log
in the same step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from memrpc.store import keys, scripts
from memrpc.store.events import Retention
from memrpc.store.redis_mux import RedisMux

Fields = dict[bytes, bytes]
# The `turns` of a session without turns.
EMPTY_WINDOW = "[]"
# The most listing-index entries one ListSessions call examines beyond its
# page size: the bound on its Redis time however many expired sessions the
# index holds (each costs a read and a removal; 500 take about 2 ms).
LIST_SCAN_BUDGET = 500


class VersionMismatch(Exception):
    """The session's version is not the one the caller expected."""

    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current


@dataclass(frozen=True)
class Appended:
    """The outcome of an append of turns."""

    version: int
    evicted: int
    turn_count: int
    event_ids: list[str]


@dataclass(frozen=True)
class Listed:
    """A session in a listing, with its listing position (score)."""

    thread_id: str
    score: str
    pttl_ms: int
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


class WorkingStore:
    """Reads and writes sessions."""

    def __init__(self, redis: RedisMux, retention: Retention) -> None:
        self._redis = redis
        self._retention = retention
        self._update = scripts.load(redis, "session_update", libs=["session"])
        self._append = scripts.load(redis, "append_turns", libs=["session", "events"])
        self._delete = scripts.load(redis, "delete_session")
        self._list = scripts.load(redis, "list_sessions")

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
        `turns` can only be cleared (`EMPTY_WINDOW`) here."""
        args: list[str | int] = [thread, now_ms, ttl_ms, _expected(expected)]
        args += ["0", "", ""] if user is None else ["1", user, _user_index(ns, user)]
        for name, value in values.items():
            args += [name, value]
        if "turns" in values:
            if values["turns"] != EMPTY_WINDOW:
                raise ValueError("turns are appended with `append_turns`, only cleared here")
            args += ["turn_sizes", ""]
        reply = await self._update(
            keys=[keys.session(ns, thread), keys.session_index(ns)], args=args
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
        user: str,
        turns: Sequence[tuple[str, str]],
    ) -> Appended:
        """Appends turns, each a (window entry, event payload) JSON pair."""
        args: list[str | int] = [
            thread,
            now_ms,
            ttl_ms,
            _expected(expected),
            window,
            self._retention.log_max_len,
            self._retention.feed_max_len,
            user,
            _user_index(ns, user),
        ]
        for entry, payload in turns:
            args += [entry, payload]
        reply = await self._append(
            keys=[
                keys.session(ns, thread),
                keys.session_index(ns),
                keys.events(ns, thread),
                keys.feed(ns),
            ],
            args=args,
        )
        if reply[0] == 0:
            raise VersionMismatch(int(reply[1]))
        _, version, evicted, count, *ids = reply
        return Appended(int(version), int(evicted), int(count), [i.decode() for i in ids])

    async def delete(self, ns: str, thread: str) -> bool:
        """Deletes the session; False when it did not exist."""
        deleted = await self._delete(
            keys=[keys.session(ns, thread), keys.session_index(ns)], args=[thread]
        )
        return bool(deleted)

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
        budget = max(size, LIST_SCAN_BUDGET)
        next_score, next_thread, flat = await self._list(
            keys=[index],
            args=[keys.session(ns, ""), size, "1" if full else "0", score, thread, budget],
        )
        sessions = [
            Listed(flat[i].decode(), flat[i + 1].decode(), int(flat[i + 2]), _fields(flat[i + 3]))
            for i in range(0, len(flat), 4)
        ]
        cursor = (next_score.decode(), next_thread.decode()) if next_score else None
        return Listing(sessions, cursor)
