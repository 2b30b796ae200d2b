"""Shared blocking reads of thread logs, each event handed to every
subscription of its log.

A `Reader` follows some thread logs with blocking `XREAD`s on a connection
of its own (`EventStore.tail`); its `XREAD` names every log it holds. Each
log it follows is a `Watch`: the last id read, how many events it handed
over, and the subscriptions it hands them to. Each event read is parsed
once and handed to every subscription of its log. An idle reader waits in
Redis (reading again every `READ_BLOCK_MS`): no polling.

A read from a position finds the events after it, but not whether the log
was trimmed past it (events after it gone before they were read). Since
trims remove the oldest events only, none was when the entry at the
position is still there; and an entry once gone never comes back, so it
being there after the read means it was there at the read. A reader finds
out:

- on its first read of a log, which starts just *before* the position it
  starts from (the log's last event): the entry at the position comes
  first if it is still there (such a read returns at once, so it cannot
  be how a reader waits);
- from the first event of each read: every event records the id of the
  event before it in its log (`prev`, `lua/lib/events.lua`), so an event
  whose `prev` is after the position says that events in between were
  trimmed before the reader read them, at no cost;
- for events written before they recorded `prev`: after a read that
  returned a full batch (`TAIL_BATCH`) for a log, by asking whether the
  entry at its position before the read is still there (`Tail.holds`, one
  `XRANGE`, sent only then): a burst of events, maybe long enough for the
  trimming to overtake the position.

When events may have been lost, the reader hands the events over to its
subscriptions with their thread put back behind (`overtaken`): each then
finds out from its own cursor, with an exact read of the history, whether
it lost events (`EventsTrimmed`). (For events without `prev`, the full-batch
check relies on trimming keeping at least the `MAXLEN` newest events, in
whole stream nodes of up to 100: with the default retention only a burst of
at least `TAIL_BATCH` events can overtake a reader.)

When a reader's set of logs changes, the XREAD it has in flight is ended
with `CLIENT UNBLOCK` (`Tail.interrupt`) and the reader reads again with the
new set. The interrupt can reach Redis before that XREAD does, or after it
returned; it finds nothing blocked then, and is sent again, one round trip
later, for as long as the read in flight is one of an older set.

When a read fails (the reader's connection drops or goes silent, see
`store/redis_mux.py`; Redis restarts or answers with an error), the reader
reads again after a backoff on a new connection, from each log's position:
tails see no gap, and send checkpoints meanwhile. The first failure of a run
and the first success after it are logged.
Once reads have failed for `GIVE_UP_S` in a row, the subscriptions of its
logs fail with the last error (tails end with UNAVAILABLE when Redis is
down, as when each read Redis itself); the reader keeps retrying while it
has logs to follow.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

import redis.exceptions

from memrpc.backoff import RestartBackoff
from memrpc.limits import TAIL_BATCH
from memrpc.store.events import EventStore, StoredEvent, Tail, ThreadLog
from memrpc.store.stream_ids import ZERO, before, id_at, order_of

if TYPE_CHECKING:
    from memrpc.tails.subscription import Subscription

logger = logging.getLogger("memrpc.tails")

# How long a reader's XREAD waits in Redis for an event before reading again:
# well under `GIVE_UP_S`, so that a working reader's reads succeed that often.
READ_BLOCK_MS = 2_000
# How long a reader waits before reconnecting: the first delay, doubled up to the last.
RECONNECT_FIRST_S = 0.05
RECONNECT_LAST_S = 2.0
# How long reads may fail in a row (Redis restarting) before subscriptions fail.
GIVE_UP_S = 5.0


def _size(event: StoredEvent) -> int:
    """The bytes (or characters) of an event's payload and attributes."""
    content = event.content
    payload = content.data if content.data is not None else content.json or ""
    return len(payload) + sum(len(name) + len(value) for name, value in content.attributes.items())


class Watch:
    """A thread log a reader follows: the last id read, how many events it
    handed over, who takes them, and whether its next read starts just
    before its position, to check that the entry there is still there."""

    __slots__ = ("checking", "handed", "log", "position", "subscriptions")

    def __init__(self, log: ThreadLog, position: str) -> None:
        self.log = log
        self.position = order_of(position)
        self.handed = 0
        self.subscriptions: set[Subscription] = set()
        self.checking = self.position != ZERO

    @property
    def read_from(self) -> str:
        """The id the next read of the log reads after."""
        return id_at(before(self.position) if self.checking else self.position)

    def to_check(self, events: list[StoredEvent]) -> bool:
        """Whether to ask, before handing over the events of a read, if the
        log still holds the entry at the position: after a full batch (a
        burst, which the trimming may have overtaken) read from the
        position itself, of events that do not say what came before them."""
        return (
            not self.checking
            and self.position != ZERO
            and len(events) >= TAIL_BATCH
            and events[0].prev is None  # else the event itself says
        )

    def take(self, events: list[StoredEvent], *, overtaken: bool = False) -> None:
        """Hands over the events of a read from `read_from`; `overtaken`
        when the log no longer held the entry at the position. A log
        trimmed past the position, or a burst into an empty log (no entry
        to check), puts the thread of every subscription back behind, so
        that each checks its own cursor."""
        if self.checking:
            self.checking = False
            if events and events[0].id == id_at(self.position):
                del events[0]
            else:
                overtaken = True
        elif events and events[0].follows(id_at(self.position)) is False:
            overtaken = True  # the event says events before it were trimmed
        elif self.position == ZERO and len(events) >= TAIL_BATCH:
            overtaken = True
        if overtaken:
            thread = self.log[1]
            for subscription in self.subscriptions:
                subscription.overtaken(thread)
        self._hand_over(events)

    def _hand_over(self, events: list[StoredEvent]) -> None:
        """Moves past events just read, offering each to every subscription."""
        for event in events:
            order = self.position = order_of(event.id)
            self.handed += 1
            size = _size(event)
            for subscription in self.subscriptions:
                subscription.offer(event, order, size)


class Reader:
    """Follows some thread logs with blocking XREADs on a connection of its
    own, while it has any."""

    def __init__(self, store: EventStore, route: ThreadLog | None = None) -> None:
        self.watches: dict[ThreadLog, Watch] = {}
        self._store = store
        # A log of the slot it reads, on a Redis Cluster (None on one node).
        self._route = route
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

    def start(self, log: ThreadLog, position: str) -> Watch:
        """Follows a log from `position` on."""
        watch = self.watches[log] = Watch(log, position)
        self._changed()
        return watch

    def stop(self, watch: Watch) -> None:
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
        async with self._store.tail(self._route) as tail:
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
            logger.warning("a tail read failed (%s); reading again on a new connection", failure)
            self._failing_since = now
        if now - self._failing_since >= GIVE_UP_S:
            self._fail(failure)

    async def _read(self, tail: Tail) -> None:
        """One XREAD of every log, its events handed over."""
        watches = dict(self.watches)
        self._reading = self._changes
        try:
            read = await tail.read(
                {log: watch.read_from for log, watch in watches.items()}, block_ms=READ_BLOCK_MS
            )
        finally:
            self._reading = None
        if self._failing_since is not None:
            logger.info(
                "tail reads succeed again after %.1f s", time.monotonic() - self._failing_since
            )
            self._failing_since = None
        checks = {
            log: id_at(watches[log].position)
            for log, events in read.items()
            if watches[log].to_check(events)
        }
        kept = await tail.holds(checks) if checks else {}
        for log, events in read.items():
            # Unless no longer followed (a new watch of the log reads on its own).
            if self.watches.get(log) is watches[log]:
                watches[log].take(events, overtaken=not kept.get(log, True))

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
