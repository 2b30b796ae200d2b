"""One tail: a cursor per thread, each thread live or behind, a bounded
queue and a bounded lag.

A `Subscription` (one tail) has a cursor per thread: the id of the last
event it took. A thread is either live, taking the events its reader hands
over that come after its cursor (stream ids only grow, so comparing ids
drops duplicates), or behind, reading its log's history from its cursor with
non-blocking reads on the shared connection (`EventStore.read_after`). A
thread starts behind and reads the history at least once; it goes live once
its cursor is at or past the last id its reader has read: every event the
reader hands over from then on comes after it. A read that reaches the end
of the log also moves the cursor up to where the reader was when the read
was sent: the reader had read those events before, so any of them the read
lacks were trimmed since, which only a cursor `0` ("whatever is left")
accepts. (For this, a reader starts following a log at the log's last
event, `EventStore.resolve`, never at a subscriber's cursor: its position
is always an id Redis had reached.)

No gap is silent. Each history read finds out, in the same atomic step,
whether the log was trimmed past the thread's cursor (`EventsTrimmed`):
then the subscription fails with it, once the events it took before (of
every thread) are handed out, so that its tail ends right after the last
event before the gap. A reader that finds its own log trimmed past its
position (`reader.py`) puts the thread back behind from its last event
taken (`overtaken`), and the next history read tells. A live thread that
keeps up pays nothing for this.

A subscription queues at most `MAX_QUEUED` events, holding at most
`MAX_QUEUED_BYTES` of payloads and attributes (the events themselves are
shared by the subscriptions of their thread). One that falls further behind
(its client reads too slowly) drops its queue and puts every thread back
behind, from the last event it delivered: its memory stays bounded and it
loses nothing, since the log holds the history (or it fails with
`EventsTrimmed` if the log was trimmed past its cursor meanwhile).

A subscription's lag in a thread is how many events the reader has handed
over since the last one the subscription delivered (events of the thread
that came while the subscription was open; the history before it is not
counted). Once that lag exceeds the hub's `max_lag` in any thread, when the
next event comes, the subscription fails with `SubscriberTooSlow`, drops its
queue and takes no more events: a client that stops reading, or reads slower
than its threads grow, is ended instead of being followed further and
further behind. (Its `next` raises once its tail asks again, which a tail
whose client stopped reading does only after the client reads on;
meanwhile it holds nothing.)

What a subscription knows of one thread (its cursors, where its lag counts
from, its watch) is one `_ThreadState`, made when the thread attaches to
its watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import KeysView, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memrpc import metrics
from memrpc.limits import TAIL_BATCH
from memrpc.store.events import EventStore, EventsTrimmed, StoredEvent
from memrpc.store.stream_ids import Order, id_at, order_of

if TYPE_CHECKING:
    from memrpc.tails.reader import Watch

# Events, and bytes of payload and attributes, a subscription queues at most
# before falling back to the history (it always takes one event).
MAX_QUEUED = 1000
MAX_QUEUED_BYTES = 4 * 1024 * 1024


class SubscriberTooSlow(Exception):
    """A subscription lagged more than its hub allows behind its threads."""

    def __init__(self, lag: int, limit: int) -> None:
        super().__init__(lag, limit)  # `next` raises copies, made from the args
        self.lag = lag
        self.limit = limit

    def __str__(self) -> str:
        return f"subscriber too slow: {self.lag} events behind, the limit is {self.limit}"


@dataclass(slots=True, eq=False)
class _ThreadState:
    """Where a subscription is in one of its threads, and the watch handing
    over the thread's events. (Whether the thread is behind is whether it is
    in its subscription's `_behind`, which tells at once if none is.)"""

    thread: str
    watch: Watch
    # The last event handed out by `next` (at first, the tail's cursor).
    delivered: str
    # The last event queued or read from the history.
    after: Order
    # Which events the watch hands over: those after its position when the
    # thread attached.
    watched_after: Order
    # Where the lag is counted from: the last event delivered (or reached),
    # as how many events the watch had handed over then.
    handed_at: int
    # The same for the last event queued, while the thread has some queued.
    queued_at: int = 0
    # Whether a history read has checked the cursor against the log (a
    # thread goes live only once one has).
    checked: bool = False

    @property
    def cursor(self) -> str:
        """The last event taken, as the tail knows it (its own cursor's
        spelling while it took none)."""
        delivered = self.delivered
        return delivered if order_of(delivered) == self.after else id_at(self.after)

    def advance(self, events: list[StoredEvent], reader_at: Order, handed: int) -> None:
        """Moves the cursor past events read from the log, and up to
        `reader_at` (where the reader was before the read, having handed
        over `handed` events) when they reach the log's end; so does the
        start of the lag: by the events read that the reader hands over
        (ahead of it, maybe), and past every event it had handed over once
        the read reaches the end (a read from `0` skips those trimmed)."""
        if events:
            self.after = order_of(events[-1].id)
        watched_after = self.watched_after
        counted = sum(1 for event in events if order_of(event.id) > watched_after)
        handed_at = self.handed_at + counted
        if len(events) < TAIL_BATCH:
            self.after = max(self.after, reader_at)
            handed_at = max(handed_at, handed)
        self.handed_at = handed_at


class Subscription:
    """New events of a namespace's threads for one tail: each event once, in
    order within its thread."""

    def __init__(
        self, store: EventStore, ns: str, cursors: Mapping[str, str], *, max_lag: int
    ) -> None:
        self.ns = ns
        self._store = store
        self._max_lag = max_lag
        # Per thread, the event the tail starts after.
        self._cursors = dict(cursors)
        # Per thread attached to its watch, its state; those of them behind.
        self._threads: dict[str, _ThreadState] = {}
        self._behind: set[_ThreadState] = set()
        self._queue: list[StoredEvent] = []
        self._queued_bytes = 0
        # The threads with events in the queue.
        self._queuing: set[_ThreadState] = set()
        self._ready = asyncio.Event()
        self._failure: Exception | None = None
        self._ended = False

    @property
    def threads(self) -> KeysView[str]:
        """The threads followed."""
        return self._cursors.keys()

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
        threads = self._threads
        for event in events:
            threads[event.thread].delivered = event.id
        return events

    def offer(self, event: StoredEvent, order: Order, size: int) -> None:
        """Queues an event just read (of `size` bytes) if its thread is live
        and it comes after the cursor; falls behind instead when the queue is
        full."""
        if self._failure is not None:
            return
        state = self._threads[event.thread]
        handed = state.watch.handed
        lag = handed - state.handed_at
        if lag > self._max_lag:
            self._drop_queue()
            self.fail(SubscriberTooSlow(lag, self._max_lag))
            metrics.tail_dropped_slow()
            return
        if state in self._behind or order <= state.after:
            return
        if self._queue and (
            len(self._queue) >= MAX_QUEUED or self._queued_bytes + size > MAX_QUEUED_BYTES
        ):
            self._fall_behind()
            return
        self._queue.append(event)
        self._queued_bytes += size
        self._queuing.add(state)
        state.queued_at = handed
        state.after = order
        self._ready.set()

    def end(self) -> None:
        """Makes `next` return None from now on."""
        self._ended = True
        self._ready.set()

    def fail(self, failure: Exception) -> None:
        """Makes `next` raise `failure`."""
        self._failure = failure
        self._ready.set()

    def overtaken(self, thread: str) -> None:
        """Puts a thread back behind from the last event it took (its queued
        events stay, to be handed out first): its reader found its log
        trimmed past its own position, so events after this thread's cursor
        may be gone, which its next history read tells."""
        self._behind.add(self._threads[thread])
        self._ready.set()

    def attach(self, watch: Watch) -> None:
        """Takes the events a watch hands over; the thread starts behind, at
        the tail's cursor, and reads the history from there at least once,
        which tells whether the log was trimmed past it."""
        thread = watch.log[1]
        cursor = self._cursors[thread]
        state = _ThreadState(
            thread,
            watch,
            delivered=cursor,
            after=order_of(cursor),
            watched_after=watch.position,
            handed_at=watch.handed,
        )
        self._threads[thread] = state
        self._behind.add(state)
        watch.subscriptions.add(self)

    def attached(self, thread: str) -> bool:
        """Whether the subscription takes a thread's events from a watch."""
        return thread in self._threads

    def detach(self) -> list[Watch]:
        """Leaves every watch; returns them."""
        watches = [state.watch for state in self._threads.values()]
        for watch in watches:
            watch.subscriptions.discard(self)
        self._threads.clear()
        return watches

    def _promote(self) -> None:
        """Puts live the threads behind that reached their reader's position
        (once checked)."""
        self._behind = {
            state
            for state in self._behind
            if not state.checked or state.after < state.watch.position
        }

    async def _collect(self) -> list[StoredEvent]:
        """The events ready now: those queued, then the next ones of the
        threads behind, read from their logs (a thread with both, put back
        behind by `overtaken`, queued the older ones)."""
        self._ready.clear()
        if self._failure is not None:
            raise copy.copy(self._failure) from self._failure
        self._promote()
        caught = await self._catch_up() if self._behind else []
        queued, self._queue, self._queued_bytes = self._queue, [], 0
        for state in self._queuing:
            state.handed_at = max(state.handed_at, state.queued_at)
        self._queuing.clear()
        return queued + caught

    async def _catch_up(self) -> list[StoredEvent]:
        """The next events of the threads behind, read from their logs; the
        threads that reach their reader's position go live. A log trimmed
        past its thread's cursor makes the subscription fail, once the
        events taken so far are handed out."""
        reader_at = {state: (state.watch.position, state.watch.handed) for state in self._behind}
        reads = await asyncio.gather(*(self._read_history(state) for state in reader_at))
        # Falling behind meanwhile moved cursors back over events delivered
        # only: the events read still come next.
        caught: list[StoredEvent] = []
        for (state, (position, handed)), read in zip(reader_at.items(), reads, strict=True):
            if isinstance(read, EventsTrimmed):
                if self._failure is None:
                    self.fail(read)
                continue
            caught += read
            state.advance(read, position, handed)
            state.checked = True
        self._promote()
        return caught

    async def _read_history(self, state: _ThreadState) -> list[StoredEvent] | EventsTrimmed:
        """The next events of a thread behind, or the gap before them."""
        try:
            return await self._store.read_after(
                self.ns, state.thread, state.cursor, count=TAIL_BATCH
            )
        except EventsTrimmed as gap:
            return gap

    def _drop_queue(self) -> None:
        """Empties the queue, its events delivered to nobody."""
        self._queue, self._queued_bytes = [], 0
        self._queuing.clear()

    def _fall_behind(self) -> None:
        """Drops the queue; every thread reads on from its last delivered event."""
        self._drop_queue()
        for state in self._threads.values():
            state.after = order_of(state.delivered)
        self._behind = set(self._threads.values())
        self._ready.set()
