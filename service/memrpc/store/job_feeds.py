"""The namespace feeds as a background job reads them: one consumer group
per job on every feed.

| key                    | type   | holds                                          |
|------------------------|--------|------------------------------------------------|
| `memrpc:feed:{ns}`     | Stream | every event of the namespace; the job's group  |
| `memrpc:jobdead:{ns}`  | Stream | the entries a job gave up on (dead letters)    |

A job's group (`memrpc.<job>`, a name clients may not use) is created at the
start of a feed, so that the turns appended before the job first looked at
the namespace are read too. Entries are read with `XREADGROUP` over many
feeds at once: every feed on one Redis, the feeds of one slot on a Redis
Cluster (`feed_slot`: a read naming two slots is `CROSSSLOT`), as
`jobs/feed_reads.py` groups them. A read that waits for entries runs on a
connection of its own (`reader`, to the node of its feeds), one that does
not on the shared one (`read_now`). An entry left unacknowledged for the
claim idle time (its consumer crashed, or its job failed) is claimed again
by any consumer (`XPENDING` for its deliveries, then `XCLAIM`, which only
one claimer of an entry wins); one delivered the most times already goes to
the dead-letter stream instead, with the job and its error, and is
acknowledged (`lua/job_dead_letter.lua`, atomic). Every other command names
one namespace's keys, which share its slot (`{ns}`).

A dead letter's fields: `job`, `entry_id`, `deliveries`, `error`, then the
entry's own fields (or `trimmed 1` when the feed no longer held it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

import redis.exceptions

from memrpc.store import keys, scripts
from memrpc.store.blocking import BlockingConnection, blocking_connection
from memrpc.store.hash_slot import slot_of
from memrpc.store.redis_errors import BusyGroupError
from memrpc.store.redis_mux import Arg, RedisClient
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

    def reader(self, ns: str) -> AbstractAsyncContextManager[BlockingConnection]:
        """A connection of its own for `read`, which blocks, while the
        context lasts: on a Redis Cluster, to the primary of the feed of
        `ns`, for reads of the feeds of its slot. Its `interrupt` ends its
        read in flight, with no entry delivered."""
        return blocking_connection(self._redis, keys.feed(ns))

    async def ensure_group(self, ns: str) -> None:
        """Creates the group on the feed of `ns` (and the feed), reading from
        its start, unless it exists."""
        with contextlib.suppress(BusyGroupError):
            await self._redis.execute(
                "XGROUP", "CREATE", keys.feed(ns), self.group, "0", "MKSTREAM"
            )

    async def read(
        self,
        reader: BlockingConnection,
        namespaces: Sequence[str],
        consumer: str,
        *,
        count: int,
        block_ms: int,
    ) -> list[FeedEntry]:
        """New entries of any of the feeds (of one slot, on a cluster), at
        most `count` of each, waiting up to `block_ms` for one (`XREADGROUP
        ... BLOCK`, on the reader's connection; its `interrupt` ends the
        wait). NOGROUP (`NoGroupError`) when a feed or its group is gone."""
        feeds = _feeds(namespaces)
        reply = await reader.connection.execute(
            *self._read_command(feeds, consumer, "COUNT", count, "BLOCK", block_ms),
            wait=block_ms / 1000,
        )
        return _delivered(feeds, reply)

    async def read_now(
        self, namespaces: Sequence[str], consumer: str, *, count: int
    ) -> list[FeedEntry]:
        """What `read` gives, without waiting: on the shared connection (to
        the node of the feeds)."""
        feeds = _feeds(namespaces)
        reply = await self._redis.execute(*self._read_command(feeds, consumer, "COUNT", count))
        return _delivered(feeds, reply)

    def _read_command(
        self, feeds: Mapping[bytes, str], consumer: str, *options: Arg
    ) -> tuple[Arg, ...]:
        """The `XREADGROUP` of new entries of `feeds` for `consumer`."""
        return (
            "XREADGROUP", "GROUP", self.group, consumer, *options,
            "STREAMS", *feeds, *[">"] * len(feeds),
        )  # fmt: skip

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


def feed_slot(ns: str) -> int:
    """The Redis Cluster slot of the feed of `ns`."""
    return slot_of(keys.feed(ns))


def _feeds(namespaces: Iterable[str]) -> dict[bytes, str]:
    """The feeds of `namespaces`, as a reply names them, to their namespace."""
    return {keys.feed(ns).encode(): ns for ns in namespaces}


def _delivered(feeds: Mapping[bytes, str], reply: Any) -> list[FeedEntry]:
    """The entries of an `XREADGROUP` reply of `feeds` (None: none), each
    delivered for the first time."""
    return [
        FeedEntry(feeds[feed], entry_id.decode(), _pairs(flat), 1)
        for feed, entries in reply or ()
        for entry_id, flat in entries
        if flat is not None
    ]


def _pairs(flat: Sequence[Any]) -> dict[Any, Any]:
    """A flat `[name, value, ...]` reply as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))
