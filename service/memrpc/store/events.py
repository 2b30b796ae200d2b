"""Event logs on Redis Streams: one stream per thread, one feed per namespace.

Each method maps onto one Redis command or one Lua script. An event's stream
fields are those of `lua/lib/events.lua`: `type`, then `data` (bytes) or
`json` (a JSON object as text), then `attrs` (a JSON object of strings); a
feed entry adds `thread` and `event_id`.

Blocking reads (`Tail.read`, `receive_next`) run on a connection of
their own (`RedisMux.dedicated`), closed afterwards, never on the shared one:
they would stall every command behind them. Their reply is due within their
block time plus the command timeout, or the connection is taken for wedged.

Trims (`MAXLEN ~` on append, `TrimEvents`) only ever remove the oldest
events of a log, and nothing else removes any; Redis keeps no record of the
ids a trim removed (`max-deleted-entry-id` follows `XDEL` only). So each
event records the id of the event before it in its log, `prev` (`0-0` for
the first; written by `lua/lib/events.lua`): the first event read after a
cursor says whether the log was *trimmed past* the cursor, events after it
gone before they were read, which a read from that cursor reports as
`EventsTrimmed` instead of skipping them. `read_after` reads the events and
where the log starts at the same instant, in one script
(`lua/events_after.lua`): with no event after the cursor, or events
written before they recorded `prev`, the cursor is trimmed past when it is
below the oldest event left (`trimmed_past`; which counts a cursor whose
own event was the last one trimmed as trimmed past too).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import redis.exceptions

from memrpc import metrics
from memrpc.limits import TAIL_BATCH
from memrpc.store import keys, request_ids, scripts
from memrpc.store.blocking import BlockingConnection, blocking_connection
from memrpc.store.redis_errors import BusyGroupError, NoGroupError
from memrpc.store.redis_mux import RedisClient
from memrpc.store.request_ids import RequestId
from memrpc.store.script_args import (
    AppendEvents,
    EventsAfter,
    EventsDeleteGroup,
    EventsReceive,
    event_group,
)
from memrpc.store.stream_ids import ZERO, id_at, order_of

if TYPE_CHECKING:
    from memrpc.config import Settings

# The id before every stream entry.
BEFORE_FIRST = "0-0"
# The most reads (a claim or a read of one entry, 10 to 30 µs each) one
# `events_receive.lua` call makes: a ReceiveEvents of many events is several
# calls, so that none holds Redis for long (bench/redis_time.py).
RECEIVE_STEPS = 50


@dataclass(frozen=True, slots=True)
class EventContent:
    """What an event holds: its type, at most one payload, its attributes."""

    type: str
    data: bytes | None = None
    json: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)

    def fields(self) -> list[bytes | str]:
        """The stream fields, flat: name, value, name, value..."""
        flat: list[bytes | str] = ["type", self.type]
        if self.data is not None:
            flat += ["data", self.data]
        elif self.json is not None:
            flat += ["json", self.json]
        if self.attributes:
            flat += ["attrs", json.dumps(dict(self.attributes), ensure_ascii=False)]
        return flat

    @classmethod
    def from_fields(cls, fields: Mapping[bytes, bytes]) -> EventContent:
        """The content of a thread log or feed entry."""
        text = fields.get(b"json")
        attrs = fields.get(b"attrs")
        return cls(
            type=fields[b"type"].decode(),
            data=fields.get(b"data"),
            json=text.decode() if text is not None else None,
            attributes=json.loads(attrs) if attrs is not None else {},
        )


@dataclass(frozen=True, slots=True)
class Retention:
    """About how many events a thread's log (unless an append says otherwise)
    and a namespace feed keep: the `MAXLEN ~` of their `XADD`s (settings
    `Settings.validate()` has checked)."""

    log_max_len: int
    feed_max_len: int

    @classmethod
    def from_settings(cls, settings: Settings) -> Retention:
        """The retention of the settings of the same names."""
        return cls(settings.event_log_max_len, settings.feed_max_len)


@dataclass(frozen=True, slots=True)
class Appended:
    """The ids of an append's events; `replayed` when a repeated request id
    returned an earlier append's ids instead of appending."""

    ids: list[str]
    replayed: bool


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event of a thread's log; `prev`, the id of the event before it in
    its log (`0-0` for the first; None in a feed entry, or an entry written
    before events recorded it)."""

    id: str
    thread: str
    content: EventContent
    prev: str | None = None

    def follows(self, position: str) -> bool | None:
        """Whether this event came right after the event `position` (or is
        the first after it of what was ever appended): False when events
        between them were trimmed away; None when the event does not say
        (written before events recorded `prev`)."""
        if self.prev is None:
            return None
        return order_of(self.prev) <= order_of(position)


@dataclass(frozen=True, slots=True)
class Delivery:
    """A feed entry handed to a consumer of a group."""

    id: str
    event: StoredEvent
    count: int


class EventStore:
    """Thread logs, namespace feeds and their consumer groups."""

    def __init__(self, redis: RedisClient, retention: Retention) -> None:
        self._redis = redis
        self.retention = retention
        self._append = scripts.load(redis, AppendEvents)
        self._receive = scripts.load(redis, EventsReceive)
        self._delete_group = scripts.load(redis, EventsDeleteGroup)
        self._after = scripts.load(redis, EventsAfter)

    async def append(
        self,
        ns: str,
        thread: str,
        events: Sequence[EventContent],
        *,
        max_len: int | None = None,
        request: RequestId | None = None,
    ) -> Appended:
        """Appends events to a thread's log (`MAXLEN ~ max_len`, by default
        the retention's) and to the namespace feed, all or none. With a
        `request`, only once in `request_ids.REMEMBER_MS`: a repeat returns
        the first append's ids, or raises `RequestIdReused` if its
        fingerprint differs."""
        remembered = request_ids.script_args(
            request, lambda request_id: keys.append_request(ns, request_id, thread)
        )
        reply = await self._append(
            AppendEvents(
                stream=keys.events(ns, thread),
                feed=keys.feed(ns),
                request=remembered.keys,
                max_len=self.retention.log_max_len if max_len is None else max_len,
                feed_max_len=self.retention.feed_max_len,
                thread=thread,
                fingerprint=remembered.fingerprint,
                remember_ms=remembered.remember_ms,
                events=[event_group(event.fields()) for event in events],
            )
        )
        replayed = request_ids.replayed(reply[0])
        return Appended([event_id.decode() for event_id in reply[1]], replayed=replayed)

    async def range(
        self, ns: str, thread: str, low: str, high: str, *, descending: bool, count: int
    ) -> list[StoredEvent]:
        """At most `count` events with ids from `low` to `high`, in XRANGE
        syntax (`-`, `+`, `(id` for exclusive), oldest or newest first."""
        key = keys.events(ns, thread)
        if descending:
            entries = await self._redis.execute("XREVRANGE", key, high, low, "COUNT", count)
        else:
            entries = await self._redis.execute("XRANGE", key, low, high, "COUNT", count)
        return [_thread_event(thread, entry) for entry in entries]

    async def read_after(
        self, ns: str, thread: str, after: str, *, count: int
    ) -> list[StoredEvent]:
        """At most `count` events after the cursor `after`, oldest first;
        `EventsTrimmed` when the log was trimmed past it. One atomic script
        (`lua/events_after.lua`)."""
        oldest, last, entries = await self._after(
            EventsAfter(stream=keys.events(ns, thread), after=id_at(order_of(after)), count=count)
        )
        events = [_thread_event(thread, entry) for entry in entries]
        follows = events[0].follows(after) if events else None
        if follows is None:  # nothing read, or an event that does not say
            lost = trimmed_past(after, oldest.decode() or last.decode())
        else:
            lost = not follows and order_of(after) != ZERO
        if lost:
            raise EventsTrimmed(thread, after, oldest.decode())
        return events

    async def read_on(
        self, ns: str, thread: str, at: str, end: str, *, after: str, descending: bool, count: int
    ) -> list[StoredEvent]:
        """At most `count` events from the event `at` (included) to `end`
        (in XRANGE syntax), oldest or newest first: the next page of a
        listing whose last page ended with the event `after`, `at` being
        the event that came next then. `EventsTrimmed` when `at` was trimmed
        since (trims remove the oldest events only: then every event of the
        range beyond `after` is gone, ascending or descending)."""
        low, high = (end, at) if descending else (at, end)
        events = await self.range(ns, thread, low, high, descending=descending, count=count)
        if events and events[0].id == at:
            return events
        oldest = await self._redis.execute("XRANGE", keys.events(ns, thread), "-", "+", "COUNT", 1)
        raise EventsTrimmed(thread, after, oldest[0][0].decode() if oldest else "")

    async def trim(
        self, ns: str, thread: str, *, max_len: int | None = None, min_id: str | None = None
    ) -> int:
        """Removes the oldest events exactly, down to `max_len` or below
        `min_id` (`XTRIM MAXLEN|MINID =`); returns how many."""
        strategy = ("MAXLEN", max_len) if min_id is None else ("MINID", min_id)
        removed: int = await self._redis.execute("XTRIM", keys.events(ns, thread), *strategy)
        return removed

    async def resolve(self, ns: str, cursors: Mapping[str, str]) -> dict[str, str]:
        """The cursors (thread to position), each empty position replaced by
        its thread's last event id, or `0-0` when the log is empty."""
        empty = [thread for thread, after in cursors.items() if not after]
        lasts = await asyncio.gather(
            *(
                self._redis.execute("XREVRANGE", keys.events(ns, thread), "+", "-", "COUNT", 1)
                for thread in empty
            )
        )
        resolved = dict(cursors)
        for thread, last in zip(empty, lasts, strict=True):
            resolved[thread] = last[0][0].decode() if last else BEFORE_FIRST
        return resolved

    @contextlib.asynccontextmanager
    async def tail(self, log: ThreadLog | None = None) -> AsyncIterator[Tail]:
        """Blocking reads of new events of thread logs, on a connection of
        their own while the context lasts: to the node of `log` on a Redis
        Cluster (its `XREAD`s then name logs of `log`'s slot only)."""
        route = None if log is None else keys.events(*log)
        async with blocking_connection(self._redis, route) as blocking:
            yield Tail(blocking)

    async def create_group(self, ns: str, group: str, *, from_start: bool) -> None:
        """Creates a group on the namespace feed (and the feed if needed),
        reading every entry or only new ones; `GroupExists` if it exists."""
        start = "0" if from_start else "$"
        try:
            await self._redis.execute("XGROUP", "CREATE", keys.feed(ns), group, start, "MKSTREAM")
        except BusyGroupError:
            raise GroupExists(ns, group) from None

    async def delete_group(self, ns: str, group: str) -> None:
        """Destroys a group and its pending entries; `GroupNotFound` if missing."""
        if not await self._delete_group(EventsDeleteGroup(feed=keys.feed(ns), group=group)):
            raise GroupNotFound(ns, group)

    async def receive(
        self,
        ns: str,
        group: str,
        consumer: str,
        *,
        count: int,
        max_bytes: int,
        redeliver_after_ms: int,
    ) -> list[Delivery]:
        """Feed entries for a consumer, without waiting: entries unacknowledged
        for `redeliver_after_ms` first, then new ones; `count` of them, or
        fewer once they hold `max_bytes`. Taken by script calls of at most
        `RECEIVE_STEPS` reads each, the next going on from the pending entry
        where the last stopped. `GroupNotFound` when the group does not
        exist. With metrics on, the group's lag after the receive is
        observed too (one `XINFO GROUPS` more)."""
        deliveries: list[Delivery] = []
        cursor, taken = BEFORE_FIRST, 0
        with _group_must_exist(ns, group):
            while True:
                cursor, drained, size, replies = await self._receive(
                    EventsReceive(
                        feed=keys.feed(ns),
                        group=group,
                        consumer=consumer,
                        min_idle_ms=redeliver_after_ms,
                        count=count - len(deliveries),
                        max_bytes=max_bytes - taken,
                        steps=RECEIVE_STEPS,
                        claim_cursor=cursor,
                    )
                )
                deliveries += (
                    _delivery(entry_id, _pairs(flat), delivery_count)
                    for entry_id, flat, delivery_count in replies
                )
                taken += size
                if drained or len(deliveries) >= count or taken >= max_bytes:
                    break
            if metrics.enabled():
                await self._observe_lag(ns, group)
        return deliveries

    async def _observe_lag(self, ns: str, group: str) -> None:
        """Observes in the metrics the feed entries a group was not yet
        delivered (`XINFO GROUPS` lag; unknown after some deletions)."""
        try:
            groups = await self._redis.execute("XINFO", "GROUPS", keys.feed(ns))
        except redis.exceptions.ResponseError:  # the feed deleted since
            return
        for info in groups:
            fields = dict(zip(info[::2], info[1::2], strict=True))
            if fields[b"name"] == group.encode() and fields.get(b"lag") is not None:
                metrics.consumer_group_lag(fields[b"lag"])

    async def receive_next(
        self, ns: str, group: str, consumer: str, *, wait_ms: int
    ) -> list[Delivery]:
        """The next new feed entry for a consumer, if one comes within
        `wait_ms` (`XREADGROUP BLOCK`, on a connection of its own to the
        feed's node). `GroupNotFound` when the group does not exist."""
        with _group_must_exist(ns, group):
            async with self._redis.dedicated(keys.feed(ns)) as connection:
                read = await connection.execute(
                    "XREADGROUP", "GROUP", group, consumer, "COUNT", 1, "BLOCK", wait_ms,
                    "STREAMS", keys.feed(ns), ">", wait=wait_ms / 1000,
                )  # fmt: skip
        return [
            _delivery(entry_id, _pairs(flat), 1)
            for _, entries in read or ()
            for entry_id, flat in entries
        ]

    async def acknowledge(self, ns: str, group: str, delivery_ids: Sequence[str]) -> int:
        """Acknowledges feed entries (`XACK`); returns how many were pending."""
        acknowledged: int = await self._redis.execute("XACK", keys.feed(ns), group, *delivery_ids)
        return acknowledged


def trimmed_past(cursor: str, bound: str) -> bool:
    """Whether a log was trimmed past a cursor: a cursor other than `0` is
    when it is below `bound`, the oldest event left, or for an empty log its
    last generated id (`""` for a log that never was)."""
    after = order_of(cursor)
    return bool(bound) and after != ZERO and after < order_of(bound)


class EventsTrimmed(Exception):
    """A thread's log was trimmed past a cursor before the events after it
    were read: those with ids above `after` and below `first`, the oldest
    event left (`""`: the log is empty), are gone."""

    def __init__(self, thread: str, after: str, first: str) -> None:
        super().__init__(thread, after, first)  # copies are made from the args
        self.thread = thread
        self.after = after
        self.first = first

    def __str__(self) -> str:
        left = f"the oldest event left is {self.first}" if self.first else "the log is empty"
        return f"thread {self.thread!r} was trimmed past {self.after}: {left}"


class GroupExists(Exception):
    """A consumer group of that name exists already."""

    def __init__(self, ns: str, group: str) -> None:
        super().__init__(f"consumer group {group!r} already exists in namespace {ns!r}")
        self.ns = ns
        self.group = group


class GroupNotFound(Exception):
    """No consumer group of that name (or no feed) in the namespace."""

    def __init__(self, ns: str, group: str) -> None:
        super().__init__(f"consumer group {group!r} in namespace {ns!r}")
        self.ns = ns
        self.group = group


# A thread log: its namespace and thread id.
ThreadLog = tuple[str, str]


class Tail:
    """Blocking reads of new events of thread logs, on a connection of their
    own, which another task can end early."""

    def __init__(self, blocking: BlockingConnection) -> None:
        self._blocking = blocking

    async def read(
        self, cursors: Mapping[ThreadLog, str], *, block_ms: int
    ) -> dict[ThreadLog, list[StoredEvent]]:
        """The events after each log's cursor (at most `TAIL_BATCH` per log),
        waiting for one up to `block_ms` or until `interrupt`; none when none
        came."""
        logs = {keys.events(ns, thread).encode(): (ns, thread) for ns, thread in cursors}
        reply = await self._blocking.connection.execute(
            "XREAD", "COUNT", TAIL_BATCH, "BLOCK", block_ms, "STREAMS", *logs, *cursors.values(),
            wait=block_ms / 1000,
        )  # fmt: skip
        return {
            logs[key]: [_thread_event(logs[key][1], entry) for entry in entries]
            for key, entries in reply or ()
        }

    async def holds(self, entries: Mapping[ThreadLog, str]) -> dict[ThreadLog, bool]:
        """Whether each log still holds the entry of its id (an `XRANGE` of
        that one id per log, sent together, not waiting)."""
        replies = await asyncio.gather(
            *(
                self._blocking.connection.execute("XRANGE", keys.events(ns, thread), entry, entry)
                for (ns, thread), entry in entries.items()
            )
        )
        return {log: bool(reply) for log, reply in zip(entries, replies, strict=True)}

    async def interrupt(self) -> bool:
        """Ends the read blocked in Redis, as if its time were up (`CLIENT
        UNBLOCK`, on the shared connection to its node); False when none was
        blocked."""
        return await self._blocking.interrupt()


def thread_event(thread: str, entry: Sequence[Any]) -> StoredEvent:
    """A thread log entry, `[id, [name, value, ...]]` as Redis returns it."""
    return _thread_event(thread, entry)


def _thread_event(thread: str, entry: Sequence[Any]) -> StoredEvent:
    """A thread log entry, `[id, [name, value, ...]]` as Redis returns it."""
    entry_id, flat = entry
    fields = _pairs(flat)
    prev = fields.get(b"prev")
    return StoredEvent(
        entry_id.decode(),
        thread,
        EventContent.from_fields(fields),
        prev.decode() if prev is not None else None,
    )


def _delivery(entry_id: bytes, fields: Mapping[bytes, bytes], count: int) -> Delivery:
    event = StoredEvent(
        fields[b"event_id"].decode(), fields[b"thread"].decode(), EventContent.from_fields(fields)
    )
    return Delivery(entry_id.decode(), event, count)


def _pairs(flat: Sequence[Any]) -> dict[bytes, bytes]:
    """A stream entry's fields from the flat list Redis returns."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


@contextlib.contextmanager
def _group_must_exist(ns: str, group: str) -> Iterator[None]:
    """Reports Redis's NOGROUP (no such feed or group) as `GroupNotFound`."""
    try:
        yield
    except NoGroupError:
        raise GroupNotFound(ns, group) from None
