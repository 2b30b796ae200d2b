"""Event tails fanned out from one shared read of each thread log.

A server process has one `TailHub`. It follows every thread log that some
tail watches with blocking `XREAD`s on at most `READERS` connections of its
own (`EventStore.tail`): each log goes to one reader by its hash, and a
reader's `XREAD` names every log it holds. So the connections stay bounded
whatever the number of tails and threads, and a read carries about a
`READERS`th of the logs (Redis takes thousands of keys in one XREAD; the
cost of a read grows with its keys). Each event read is parsed once and
handed to every subscription of its log. An idle reader waits in Redis
(reading again every `READ_BLOCK_MS`): no polling.

When a reader's set of logs changes, the XREAD it has in flight is ended
with `CLIENT UNBLOCK` (`Tail.interrupt`) and the reader reads again with the
new set. The interrupt can reach Redis before that XREAD does, or after it
returned; it finds nothing blocked then, and is sent again, one round trip
later, for as long as the read in flight is one of an older set.

A `Subscription` (one tail) has a cursor per thread: the id of the last
event it took. A thread is either live, taking the events its reader hands
over that come after its cursor (stream ids only grow, so comparing ids
drops duplicates), or behind, reading its log's history from its cursor with
non-blocking XRANGEs on the shared connection (`EventStore.range`). A thread
goes live once its cursor is at or past the last id its reader has read:
every event the reader hands over from then on comes after it. An XRANGE
that reaches the end of the log also moves the cursor up to where the reader
was when the XRANGE was sent: the reader had read those events before, so
any of them the XRANGE lacks were deleted since. (For this, a reader starts
following a log at the log's last event, `EventStore.resolve`, never at a
subscriber's cursor: its position is always an id Redis had reached.)

A subscription queues at most `MAX_QUEUED` events, holding at most
`MAX_QUEUED_BYTES` of payloads and attributes (the events themselves are
shared by the subscriptions of their thread). One that falls further behind
(its client reads too slowly) drops its queue and puts every thread back
behind, from the last event it delivered: its memory stays bounded and it
loses nothing, since the log holds the history (unless trimmed meanwhile,
as for any cursor).

A subscription's lag in a thread is how many events the reader has handed
over since the last one the subscription delivered (events of the thread
that came while the subscription was open; the history before it is not
counted, nor are events trimmed before it reached them). Once that lag
exceeds the hub's `max_lag` in any thread, when the next event comes, the
subscription fails with `SubscriberTooSlow`, drops its queue and takes no
more events: a client that stops reading, or reads slower than its threads
grow, is ended instead of being followed further and further behind. (Its
`next` raises once its tail asks again, which a tail whose client stopped
reading does only after the client reads on; meanwhile it holds nothing.)

When a read fails (the reader's connection drops, Redis restarts or answers
with an error), the reader reads again after a backoff on a new connection,
from each log's position: tails see no gap, and send checkpoints meanwhile.
Once reads have failed for `GIVE_UP_S` in a row, the subscriptions of its
logs fail with the last error (tails end with UNAVAILABLE when Redis is
down, as when each read Redis itself); the reader keeps retrying while it
has logs to follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import redis.exceptions

from memrpc.backoff import RestartBackoff
from memrpc.limits import TAIL_BATCH
from memrpc.store.events import EventStore, StoredEvent, Tail, ThreadLog

# Connections reading thread logs, at most.
READERS = 4
# How long a reader's XREAD waits in Redis for an event before reading again:
# well under `GIVE_UP_S`, so that a working reader's reads succeed that often.
READ_BLOCK_MS = 2_000
# Events, and bytes of payload and attributes, a subscription queues at most
# before falling back to the history (it always takes one event).
MAX_QUEUED = 1000
MAX_QUEUED_BYTES = 4 * 1024 * 1024
# How long a reader waits before reconnecting: the first delay, doubled up to the last.
RECONNECT_FIRST_S = 0.05
RECONNECT_LAST_S = 2.0
# How long reads may fail in a row (Redis restarting) before subscriptions fail.
GIVE_UP_S = 5.0

# A stream id as numbers, which order as the ids do.
Order = tuple[int, int]


def _order(event_id: str) -> Order:
    """An event id's place in its stream (`5` stands for `5-0`)."""
    ms, _, seq = event_id.partition("-")
    return int(ms), int(seq or 0)


def _event_id(order: Order) -> str:
    """The event id at a place in a stream."""
    return f"{order[0]}-{order[1]}"


class SubscriberTooSlow(Exception):
    """A subscription lagged more than its hub allows behind its threads."""

    def __init__(self, lag: int, limit: int) -> None:
        super().__init__(lag, limit)  # `next` raises copies, made from the args
        self.lag = lag
        self.limit = limit

    def __str__(self) -> str:
        return f"subscriber too slow: {self.lag} events behind, the limit is {self.limit}"


@dataclass(frozen=True)
class HubStats:
    """What a hub holds now: its subscriptions, those of them failed (their
    tails not ended yet), and the events they queue."""

    subscriptions: int
    failed: int
    queued_events: int
    queued_bytes: int


def _size(event: StoredEvent) -> int:
    """The bytes (or characters) of an event's payload and attributes."""
    content = event.content
    payload = content.data if content.data is not None else content.json or ""
    return len(payload) + sum(len(name) + len(value) for name, value in content.attributes.items())


class TailHub:
    """The tails of a server process, each thread log read once for all of
    them; a subscription lagging more than `max_lag` events fails."""

    def __init__(self, store: EventStore, *, max_lag: int, readers: int = READERS) -> None:
        self._store = store
        self._readers = [_Reader(store) for _ in range(readers)]
        self._max_lag = max_lag
        self._closed = False

    @property
    def watched(self) -> set[ThreadLog]:
        """The thread logs some subscription follows."""
        return {log for reader in self._readers for log in reader.watches}

    def stats(self) -> HubStats:
        """The subscriptions and their queues now."""
        subscriptions = {
            subscription
            for reader in self._readers
            for watch in reader.watches.values()
            for subscription in watch.subscriptions
        }
        return HubStats(
            subscriptions=len(subscriptions),
            failed=sum(s.failure is not None for s in subscriptions),
            queued_events=sum(s.queued for s in subscriptions),
            queued_bytes=sum(s.queued_bytes for s in subscriptions),
        )

    @contextlib.asynccontextmanager
    async def subscribe(self, ns: str, cursors: Mapping[str, str]) -> AsyncIterator[Subscription]:
        """The events of a namespace's threads after their cursors (thread to
        event id), while the context lasts."""
        subscription = Subscription(self._store, ns, cursors, max_lag=self._max_lag)
        try:
            await self._join(subscription)
            if self._closed:
                raise redis.exceptions.ConnectionError("event tails are closed")
            yield subscription
        finally:
            for watch in subscription.detach():
                if not watch.subscriptions:
                    self._reader_of(watch.log).stop(watch)

    async def aclose(self) -> None:
        """Stops reading; the subscriptions left fail."""
        self._closed = True
        await asyncio.gather(*(reader.aclose() for reader in self._readers))

    async def _join(self, subscription: Subscription) -> None:
        """Attaches a subscription to the watches of its threads; a log nobody
        watched yet is watched from its last event."""
        ns = subscription.ns
        for thread in subscription.threads:
            if watch := self._watch_of((ns, thread)):
                subscription.attach(watch)
        fresh = [thread for thread in subscription.threads if not subscription.attached(thread)]
        if fresh:
            starts = await self._store.resolve(ns, dict.fromkeys(fresh, ""))
            for thread in fresh:
                log = (ns, thread)
                watch = self._watch_of(log) or self._reader_of(log).start(log, starts[thread])
                subscription.attach(watch)
        subscription.promote()

    def _reader_of(self, log: ThreadLog) -> _Reader:
        """The reader a log goes to."""
        return self._readers[hash(log) % len(self._readers)]

    def _watch_of(self, log: ThreadLog) -> _Watch | None:
        """A log's watch, if it is followed."""
        return self._reader_of(log).watches.get(log)


class Subscription:
    """New events of a namespace's threads for one tail: each event once, in
    order within its thread."""

    def __init__(
        self, store: EventStore, ns: str, cursors: Mapping[str, str], *, max_lag: int
    ) -> None:
        self.ns = ns
        self.threads = list(cursors)
        self._store = store
        self._max_lag = max_lag
        # The last event handed out by `next`, per thread.
        self._delivered = dict(cursors)
        # The last event queued or read from the history, per thread.
        self._after = {thread: _order(cursor) for thread, cursor in cursors.items()}
        self._behind = set(cursors)
        self._watches: dict[str, _Watch] = {}
        self._queue: list[StoredEvent] = []
        self._queued_bytes = 0
        # Per thread, where the lag is counted from: the last event delivered
        # (or reached), as how many events its watch had handed over then;
        # the same for the last event queued; and which events the watch
        # hands over (those after its position when the thread attached).
        self._handed_at: dict[str, int] = {}
        self._queued_at: dict[str, int] = {}
        self._watched_after: dict[str, Order] = {}
        self._ready = asyncio.Event()
        self._failure: Exception | None = None
        self._ended = False

    @property
    def queued(self) -> int:
        """How many events wait in the queue."""
        return len(self._queue)

    @property
    def queued_bytes(self) -> int:
        """The bytes of payload and attributes of the events queued."""
        return self._queued_bytes

    @property
    def failure(self) -> Exception | None:
        """Why the subscription failed, if it did."""
        return self._failure

    async def next(self, within: float) -> list[StoredEvent] | None:
        """The next events after the cursors, waiting up to `within` seconds
        for some: none when none came, None once ended. Raises what made the
        reader fail."""
        events: list[StoredEvent] = []
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while not self._ended and not (events := await self._collect()):
                    if not self._behind:
                        await self._ready.wait()
        if self._ended:
            return None
        for event in events:
            self._delivered[event.thread] = event.id
        return events

    def offer(self, event: StoredEvent, order: Order, size: int) -> None:
        """Queues an event just read (of `size` bytes) if its thread is live
        and it comes after the cursor; falls behind instead when the queue is
        full."""
        if self._failure is not None:
            return
        thread = event.thread
        handed = self._watches[thread].handed
        lag = handed - self._handed_at[thread]
        if lag > self._max_lag:
            self._queue, self._queued_bytes, self._queued_at = [], 0, {}
            self.fail(SubscriberTooSlow(lag, self._max_lag))
            return
        if thread in self._behind or order <= self._after[thread]:
            return
        if self._queue and (
            len(self._queue) >= MAX_QUEUED or self._queued_bytes + size > MAX_QUEUED_BYTES
        ):
            self._fall_behind()
            return
        self._queue.append(event)
        self._queued_bytes += size
        self._queued_at[thread] = handed
        self._after[thread] = order
        self._ready.set()

    def end(self) -> None:
        """Makes `next` return None from now on."""
        self._ended = True
        self._ready.set()

    def fail(self, failure: Exception) -> None:
        """Makes `next` raise `failure`."""
        self._failure = failure
        self._ready.set()

    def attach(self, watch: _Watch) -> None:
        """Takes the events a watch hands over."""
        thread = watch.log[1]
        self._watches[thread] = watch
        self._handed_at[thread] = watch.handed
        self._watched_after[thread] = watch.position
        watch.subscriptions.add(self)

    def attached(self, thread: str) -> bool:
        """Whether the subscription takes a thread's events from a watch."""
        return thread in self._watches

    def detach(self) -> list[_Watch]:
        """Leaves every watch; returns them."""
        watches = list(self._watches.values())
        for watch in watches:
            watch.subscriptions.discard(self)
        self._watches.clear()
        return watches

    def promote(self) -> None:
        """Puts live the threads behind that reached their reader's position."""
        self._behind = {
            thread
            for thread in self._behind
            if self._after[thread] < self._watches[thread].position
        }

    async def _collect(self) -> list[StoredEvent]:
        """The events ready now: the next ones of the threads behind, read
        from their logs, and those queued."""
        self._ready.clear()
        if self._failure is not None:
            raise copy.copy(self._failure) from self._failure
        self.promote()
        caught = await self._catch_up() if self._behind else []
        queued, self._queue, self._queued_bytes = self._queue, [], 0
        for thread, handed in self._queued_at.items():
            self._handed_at[thread] = max(self._handed_at[thread], handed)
        self._queued_at = {}
        return caught + queued

    async def _catch_up(self) -> list[StoredEvent]:
        """The next events of the threads behind, read from their logs; the
        threads that reach their reader's position go live."""
        watches = {thread: self._watches[thread] for thread in self._behind}
        reader_at = {thread: (watch.position, watch.handed) for thread, watch in watches.items()}
        reads = await asyncio.gather(
            *(
                self._store.range(
                    self.ns,
                    thread,
                    f"({_event_id(self._after[thread])}",
                    "+",
                    descending=False,
                    count=TAIL_BATCH,
                )
                for thread in reader_at
            )
        )
        # Falling behind meanwhile moved cursors back over events delivered
        # or deleted only: the events read still come next.
        caught: list[StoredEvent] = []
        for (thread, (position, handed)), events in zip(reader_at.items(), reads, strict=True):
            caught += events
            self._advance(thread, events, position, handed)
        self.promote()
        return caught

    def _advance(
        self, thread: str, events: list[StoredEvent], reader_at: Order, handed: int
    ) -> None:
        """Moves a thread's cursor past events read from its log, and up to
        `reader_at` (where its reader was before the read, having handed
        over `handed` events) when they reach the log's end; so does the
        start of its lag: by the events read that the reader hands over
        (ahead of it, maybe), and past every event it had handed over once
        the read reaches the end (events deleted meanwhile are never read)."""
        if events:
            self._after[thread] = _order(events[-1].id)
        watched_after = self._watched_after[thread]
        counted = sum(1 for event in events if _order(event.id) > watched_after)
        handed_at = self._handed_at[thread] + counted
        if len(events) < TAIL_BATCH:
            self._after[thread] = max(self._after[thread], reader_at)
            handed_at = max(handed_at, handed)
        self._handed_at[thread] = handed_at

    def _fall_behind(self) -> None:
        """Drops the queue; every thread reads on from its last delivered event."""
        self._queue, self._queued_bytes, self._queued_at = [], 0, {}
        self._after = {thread: _order(cursor) for thread, cursor in self._delivered.items()}
        self._behind = set(self._after)
        self._ready.set()


class _Watch:
    """A thread log a reader follows: the last id read, how many events it
    handed over, who takes them."""

    __slots__ = ("handed", "log", "position", "subscriptions")

    def __init__(self, log: ThreadLog, position: str) -> None:
        self.log = log
        self.position = _order(position)
        self.handed = 0
        self.subscriptions: set[Subscription] = set()

    def hand_over(self, events: list[StoredEvent]) -> None:
        """Moves past events just read, offering each to every subscription."""
        for event in events:
            order = self.position = _order(event.id)
            self.handed += 1
            size = _size(event)
            for subscription in self.subscriptions:
                subscription.offer(event, order, size)


class _Reader:
    """Follows some thread logs with blocking XREADs on a connection of its
    own, while it has any."""

    def __init__(self, store: EventStore) -> None:
        self.watches: dict[ThreadLog, _Watch] = {}
        self._store = store
        # How many times the logs changed, and how many had when the XREAD in
        # flight was sent (None when none is).
        self._changes = 0
        self._reading: int | None = None
        # When reads started failing, if the last one did.
        self._failing_since: float | None = None
        self._tail: Tail | None = None
        self._task: asyncio.Task[None] | None = None
        self._waking: asyncio.Task[None] | None = None
        self._closed = False

    def start(self, log: ThreadLog, position: str) -> _Watch:
        """Follows a log from `position` on."""
        watch = self.watches[log] = _Watch(log, position)
        self._changed()
        return watch

    def stop(self, watch: _Watch) -> None:
        """Stops following a log."""
        del self.watches[watch.log]
        self._changed()

    async def aclose(self) -> None:
        """Stops reading; the subscriptions of the logs fail."""
        self._closed = True
        self._fail(redis.exceptions.ConnectionError("event tails are closed"))
        tasks = [task for task in (self._waking, self._task) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _changed(self) -> None:
        """Starts reading, or makes the XREAD in flight end."""
        self._changes += 1
        if self._closed:
            return
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        elif self._waking is None:
            self._waking = asyncio.create_task(self._wake())

    async def _run(self) -> None:
        """Follows the logs while there are any, on a connection opened again
        after a backoff whenever reading fails."""
        backoff = RestartBackoff(RECONNECT_FIRST_S, RECONNECT_LAST_S)
        while self.watches:
            try:
                await self._follow(backoff)
            except Exception as exc:  # Redis gone or failing, or an entry that does not parse
                self._failed(exc)
                await asyncio.sleep(backoff.next_delay())
        self._task = None

    async def _follow(self, backoff: RestartBackoff) -> None:
        """Reads on a new connection until no log is left."""
        async with self._store.tail() as tail:
            backoff.started()
            self._tail = tail
            try:
                while self.watches:
                    await self._read(tail)
            finally:
                self._tail = None

    def _failed(self, failure: Exception) -> None:
        """Counts a failed read: the subscriptions fail once reads have failed
        for `GIVE_UP_S` in a row."""
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        if now - self._failing_since >= GIVE_UP_S:
            self._fail(failure)

    async def _read(self, tail: Tail) -> None:
        """One XREAD of every log, its events handed over."""
        watches = dict(self.watches)
        self._reading = self._changes
        try:
            read = await tail.read(
                {log: _event_id(watch.position) for log, watch in watches.items()},
                block_ms=READ_BLOCK_MS,
            )
        finally:
            self._reading = None
        self._failing_since = None
        for log, events in read.items():
            # Unless no longer followed (a new watch of the log reads on its own).
            if self.watches.get(log) is watches[log]:
                watches[log].hand_over(events)

    async def _wake(self) -> None:
        """Ends the XREAD in flight while it reads an older set of logs."""
        try:
            while self._tail is not None and self._reading not in (None, self._changes):
                if await self._tail.interrupt():
                    return
        except redis.exceptions.RedisError:
            return  # the reader meets the failure itself
        finally:
            self._waking = None

    def _fail(self, failure: Exception) -> None:
        """Fails the subscriptions of every log."""
        for watch in self.watches.values():
            for subscription in watch.subscriptions:
                subscription.fail(failure)
