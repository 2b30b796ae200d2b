"""The tails of a server process, each thread log read once for all of them.

A server process has one `TailHub`. It follows every thread log that some
tail watches with at most `READERS` readers (`reader.py`), each on a
connection of its own: each log goes to one reader by its hash, and a
reader's `XREAD` names every log it holds. So the connections stay bounded
whatever the number of tails and threads, and a read carries about a
`READERS`th of the logs (Redis takes thousands of keys in one XREAD; the
cost of a read grows with its keys).

On a Redis Cluster (`by_slot`), one `XREAD` may only name keys of one slot
(`CROSSSLOT` otherwise, even for two slots of one node), so a log goes to
the reader of its namespace's slot instead, made when a first log of that
slot is watched, on a connection to the slot's primary: as many readers
and connections as slots with watched logs (at most one per tailed
namespace), each reading all of that slot's watched logs at once.

A tail subscribes (`subscribe`) with a cursor per thread; its subscription
(`subscription.py`) attaches to the watch of each of its threads. A log
nobody watched yet is watched from its last event (`EventStore.resolve`),
never from a subscriber's cursor, so that a watch's position is always an
id Redis had reached; the subscription reads the history up to there
itself. A log is unwatched when its last subscription leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import redis.exceptions

from memrpc.store import keys
from memrpc.store.events import EventStore, ThreadLog
from memrpc.store.hash_slot import slot_of
from memrpc.tails.reader import Reader, Watch
from memrpc.tails.subscription import Subscription

# Connections reading thread logs, at most.
READERS = 4


@dataclass(frozen=True)
class HubStats:
    """What a hub holds now: its subscriptions, those of them failed (their
    tails not ended yet), and the events they queue."""

    subscriptions: int
    failed: int
    queued_events: int
    queued_bytes: int


class TailHub:
    """The tails of a server process, each thread log read once for all of
    them; a subscription lagging more than `max_lag` events fails."""

    def __init__(
        self, store: EventStore, *, max_lag: int, readers: int = READERS, by_slot: bool = False
    ) -> None:
        self._store = store
        self._count = readers
        self._by_slot = by_slot
        # The readers, by the group of their logs: a hash's remainder, or a slot.
        self._readers: dict[int, Reader] = {}
        self._max_lag = max_lag
        self._closed = False

    @property
    def watched(self) -> set[ThreadLog]:
        """The thread logs some subscription follows."""
        return {log for reader in self._readers.values() for log in reader.watches}

    def stats(self) -> HubStats:
        """The subscriptions and their queues now."""
        subscriptions = {
            subscription
            for reader in self._readers.values()
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
        await asyncio.gather(*(reader.aclose() for reader in self._readers.values()))

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

    def _reader_of(self, log: ThreadLog) -> Reader:
        """The reader a log goes to, made on first use."""
        group = slot_of(keys.events(*log)) if self._by_slot else hash(log) % self._count
        reader = self._readers.get(group)
        if reader is None:
            reader = self._readers[group] = Reader(self._store, log if self._by_slot else None)
        return reader

    def _watch_of(self, log: ThreadLog) -> Watch | None:
        """A log's watch, if it is followed."""
        return self._reader_of(log).watches.get(log)
