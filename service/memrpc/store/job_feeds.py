"""The namespace feeds as a background job reads them: one consumer group
per job on every feed.

| key                    | type   | holds                                          |
|------------------------|--------|------------------------------------------------|
| `memrpc:feed:{ns}`     | Stream | every event of the namespace; the job's group  |
| `memrpc:jobdead:{ns}`  | Stream | the entries a job gave up on (dead letters)    |

A job's group (`memrpc.<job>`, a name clients may not use) is created at the
start of a feed, so that the turns appended before the job first looked at
the namespace are read too. Entries are read with `XREADGROUP` over every
feed at once, on a connection of the reader's own (it blocks); an entry left
unacknowledged for the claim idle time (its consumer crashed, or its job
failed) is claimed again by any consumer (`XPENDING` for its deliveries, then
`XCLAIM`, which only one claimer of an entry wins); one delivered the most
times already goes to the dead-letter stream instead, with the job and its
error, and is acknowledged (`lua/job_dead_letter.lua`, atomic).

A dead letter's fields: `job`, `entry_id`, `deliveries`, `error`, then the
entry's own fields (or `trimmed 1` when the feed no longer held it).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.exceptions

from memrpc.store import keys, scripts
from memrpc.store.redis_errors import BusyGroupError
from memrpc.store.redis_mux import Connection, RedisClient
from memrpc.store.script_args import JobDeadLetter


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """A feed entry delivered to a job: its namespace, id, fields and how
    many times it has been delivered (this delivery included)."""

    ns: str
    id: str
    fields: Mapping[bytes, bytes]
    deliveries: int

    @property
    def type(self) -> str | None:
        """The event's type; None for an entry without one (not written by
        memrpc)."""
        value = self.fields.get(b"type")
        return value.decode(errors="replace") if value is not None else None

    @property
    def thread(self) -> str | None:
        """The thread of the event; None for an entry without one."""
        value = self.fields.get(b"thread")
        return value.decode(errors="replace") if value is not None else None


@dataclass(frozen=True, slots=True)
class FeedReader:
    """A connection for blocking reads of the feeds, and its Redis client id."""

    connection: Connection
    client_id: int


@dataclass(frozen=True, slots=True)
class GroupStats:
    """What a job's group has left on one feed: entries not yet delivered
    (`lag`, None when Redis cannot tell), and delivered but unacknowledged
    (`pending`)."""

    lag: int | None
    pending: int


class JobFeeds:
    """The feeds of every namespace, as one job's consumer group sees them."""

    def __init__(self, redis: RedisClient, group: str, *, dead_max_len: int) -> None:
        self._redis = redis
        self.group = group
        self._dead_max_len = dead_max_len
        self._dead_letter = scripts.load(redis, JobDeadLetter)

    @contextlib.asynccontextmanager
    async def reader(self) -> AsyncIterator[FeedReader]:
        """A connection of its own for `read`, which blocks, while the
        context lasts."""
        async with self._redis.dedicated() as connection:
            yield FeedReader(connection, await connection.execute("CLIENT", "ID"))

    async def interrupt(self, reader: FeedReader) -> None:
        """Ends the reader's blocked read as if its time were up, with no
        entry delivered (`CLIENT UNBLOCK`, on the shared connection)."""
        await self._redis.execute("CLIENT", "UNBLOCK", reader.client_id)

    async def ensure_group(self, ns: str) -> None:
        """Creates the group on the feed of `ns` (and the feed), reading from
        its start, unless it exists."""
        with contextlib.suppress(BusyGroupError):
            await self._redis.execute(
                "XGROUP", "CREATE", keys.feed(ns), self.group, "0", "MKSTREAM"
            )

    async def read(
        self,
        reader: FeedReader,
        namespaces: Sequence[str],
        consumer: str,
        *,
        count: int,
        block_ms: int,
    ) -> list[FeedEntry]:
        """New entries of any of the feeds, at most `count` of each, waiting
        up to `block_ms` for one (`XREADGROUP ... BLOCK`, on the reader's
        connection; `interrupt` ends the wait).
        NOGROUP (`NoGroupError`) when a feed or its group is gone."""
        feeds = {keys.feed(ns).encode(): ns for ns in namespaces}
        reply = await reader.connection.execute(
            "XREADGROUP", "GROUP", self.group, consumer, "COUNT", count, "BLOCK", block_ms,
            "STREAMS", *feeds, *[">"] * len(feeds), wait=block_ms / 1000,
        )  # fmt: skip
        return [
            FeedEntry(feeds[feed], entry_id.decode(), _pairs(flat), 1)
            for feed, entries in reply or ()
            for entry_id, flat in entries
            if flat is not None
        ]

    async def overdue(self, ns: str, *, idle_ms: int, count: int) -> list[tuple[str, int]]:
        """Up to `count` entries of the feed of `ns` unacknowledged for at
        least `idle_ms`, oldest first, each with how many times it was
        delivered."""
        pending = await self._redis.execute(
            "XPENDING", keys.feed(ns), self.group, "IDLE", idle_ms, "-", "+", count
        )
        return [(entry_id.decode(), deliveries) for entry_id, _, _, deliveries in pending]

    async def claim(
        self, ns: str, consumer: str, overdue: Iterable[tuple[str, int]], *, idle_ms: int
    ) -> list[FeedEntry]:
        """The `overdue` entries that `consumer` wins (those still idle for
        `idle_ms`: another claimer may have taken some), delivered once more;
        entries trimmed from the feed meanwhile are dropped by Redis."""
        deliveries = dict(overdue)
        if not deliveries:
            return []
        claimed = await self._redis.execute(
            "XCLAIM", keys.feed(ns), self.group, consumer, idle_ms, *deliveries
        )
        return [
            FeedEntry(ns, entry_id.decode(), _pairs(flat), deliveries[entry_id.decode()] + 1)
            for entry_id, flat in claimed
            if flat is not None
        ]

    async def acknowledge(self, ns: str, entry_ids: Sequence[str]) -> None:
        """Acknowledges entries of the feed of `ns` for the group."""
        if entry_ids:
            await self._redis.execute("XACK", keys.feed(ns), self.group, *entry_ids)

    async def give_up(self, ns: str, entry_id: str, deliveries: int, error: str) -> bool:
        """Moves an entry of the feed of `ns`, delivered `deliveries` times,
        to the namespace's dead-letter stream with `error`, and acknowledges
        it; False when it was no longer pending."""
        recorded: int = await self._dead_letter(
            JobDeadLetter(
                feed=keys.feed(ns),
                dead=keys.dead_letters(ns),
                group=self.group,
                entry_id=entry_id,
                deliveries=deliveries,
                error=error,
                dead_max_len=self._dead_max_len,
            )
        )
        return bool(recorded)

    async def stats(self, ns: str) -> GroupStats | None:
        """The group's lag and pending entries on the feed of `ns`; None
        when the feed or the group is gone."""
        try:
            groups = await self._redis.execute("XINFO", "GROUPS", keys.feed(ns))
        except redis.exceptions.ResponseError:  # no such feed
            return None
        for info in groups:
            fields = _pairs(info)
            if fields[b"name"] == self.group.encode():
                lag = fields.get(b"lag")
                return GroupStats(lag if isinstance(lag, int) else None, fields[b"pending"])
        return None

    async def leave(self, ns: str, consumer: str) -> bool:
        """Deletes `consumer` from the group on the feed of `ns` if it holds
        no pending entry (a consumer that does would lose them); whether it
        was deleted. A stopped runner's consumer does not pile up in the
        group."""
        mine = await self._redis.execute(
            "XPENDING", keys.feed(ns), self.group, "-", "+", 1, consumer
        )
        if mine:
            return False
        await self._redis.execute("XGROUP", "DELCONSUMER", keys.feed(ns), self.group, consumer)
        return True


def _pairs(flat: Sequence[Any]) -> dict[Any, Any]:
    """A flat `[name, value, ...]` reply as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))
