"""A job runner's reads of new entries of every namespace feed, each
waiting up to `JOB_BLOCK_S` for some.

On one Redis, one `XREADGROUP ... BLOCK` names every feed, on a connection
of the runner's own.

On a Redis Cluster (`by_slot`), one `XREADGROUP` may name the feeds of one
slot only (`CROSSSLOT` otherwise, even for two slots of one node), so the
feeds are grouped by slot (`job_feeds.feed_slot`), and each group is read
on a connection to its slot's primary (`JobFeeds.reader`), opened when the
group is first read and kept. Each group has one `XREADGROUP ... BLOCK`
in flight at a time, kept from one `read` to the next: a `read` sends the
reads of the groups that have none, waits for the first to end (with
entries, or with none when its time is up), and returns the entries of
every read ended by then; the others keep waiting in Redis, their entries
for a later `read`. So a slot with new entries is read again as soon as its
batch has run, never held up by an idle slot's wait, and an entry appended
costs one read of its slot, not of every slot. A group whose feeds changed
(a namespace new to the runner) has its read ended (`CLIENT UNBLOCK`, on
its node, sent up to `JOB_UNBLOCK_TRIES` times while it has not ended) and
sent again; `interrupt` (the runner's stop) ends them all the same way.

Bounded: at most `JOB_FEED_READS` reads in flight, and as many connections.
When the groups outnumber them (the namespaces are in more slots), the
reads do not wait: the connections are closed, every group is read without
blocking (`JobFeeds.read_now`, on the shared connections, `JOB_FEED_READS`
at a time), and a `read` that found nothing waits `JOB_BLOCK_S` (`pause`).
An idle runner then sends one `XREADGROUP` per slot in use every
`JOB_BLOCK_S`, and a new entry waits up to that long.

A read that fails (NOGROUP, a node lost, a slot moved: `MOVED`) raises its
error from the `read` that collects it. On a node lost or a slot moved
the runner's step fails, and the runner leaves `open`, which closes every
connection with that error: the cluster client reads the slot map again or
learns the slot's new primary (`ClusterMux.dedicated`), and the runner's
next step, after its backoff, reads on new connections, to the right nodes;
the reads still in flight when `open` ends are cancelled. Entries delivered
to reads whose reply was lost that way stay pending for the runner's
consumer, and are claimed again after the claim idle time (`runner.py`):
none is lost.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from memrpc.limits import JOB_BLOCK_S, JOB_FEED_READS, JOB_READ_COUNT, JOB_UNBLOCK_TRIES
from memrpc.store.blocking import BlockingConnection
from memrpc.store.job_feeds import FeedEntry, JobFeeds, feed_slot

_BLOCK_MS = int(JOB_BLOCK_S * 1000)


@dataclass(frozen=True)
class _Read:
    """A waiting read of a group's feeds (`namespaces`) on `reader`."""

    reader: BlockingConnection
    namespaces: list[str]
    future: asyncio.Future[list[FeedEntry]]


class FeedReads:
    """The reads of one consumer of a job's groups, over every feed: by
    slot on a Redis Cluster (`by_slot`). `pause` waits after reads that
    did not wait (the runner's, which its stop ends)."""

    def __init__(
        self,
        feeds: JobFeeds,
        consumer: str,
        *,
        by_slot: bool,
        pause: Callable[[float], Awaitable[None]],
    ) -> None:
        self._feeds = feeds
        self._consumer = consumer
        self._by_slot = by_slot
        self._pause = pause
        # The connections open, by slot (0 for every feed on one Redis), and
        # what closes them.
        self._readers: dict[int, BlockingConnection] = {}
        self._stack = contextlib.AsyncExitStack()
        # The reads in flight, by slot (0 on one Redis).
        self._reading: dict[int, _Read] = {}

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[None]:
        """Reads may be made while the context lasts, on connections opened
        when first needed; they are closed on exit, with the error that
        ended the context if any (see the module docstring)."""
        async with contextlib.AsyncExitStack() as self._stack:
            try:
                yield
            finally:
                await self._drop_reads()
                self._readers = {}

    async def read(self, namespaces: Iterable[str]) -> list[FeedEntry]:
        """New entries of the feeds of `namespaces` (at least one), at most
        `JOB_READ_COUNT` of each, waiting up to `JOB_BLOCK_S` for some;
        `interrupt` ends the wait."""
        groups: dict[int, list[str]] = collections.defaultdict(list)
        for ns in namespaces:
            groups[feed_slot(ns) if self._by_slot else 0].append(ns)
        if len(self._readers.keys() | groups.keys()) <= JOB_FEED_READS:
            return await self._wait_for(groups)
        if self._readers:
            await self._drop_reads()
            self._readers = {}
            await self._stack.pop_all().aclose()
        entries = await self._poll(groups.values())
        if not entries:
            await self._pause(JOB_BLOCK_S)
        return entries

    async def interrupt(self) -> None:
        """Ends the reads in flight at once, with what they were delivered."""
        await self._end(self._reading.values())

    async def _wait_for(self, groups: Mapping[int, Sequence[str]]) -> list[FeedEntry]:
        """The entries of the waiting reads that end first: one read per
        group on its connection, kept in flight from one call to the next
        (see the module docstring). A group whose feeds changed is ended,
        and read again once it has."""
        await self._end(
            read for slot, read in self._reading.items() if groups.get(slot) != read.namespaces
        )
        for slot, namespaces in groups.items():
            if slot not in self._reading:
                reader = await self._reader(slot, namespaces[0])
                future = asyncio.ensure_future(
                    self._feeds.read(
                        reader, namespaces, self._consumer, count=JOB_READ_COUNT, block_ms=_BLOCK_MS
                    )
                )
                self._reading[slot] = _Read(reader, list(namespaces), future)
        await asyncio.wait(
            [read.future for read in self._reading.values()], return_when=asyncio.FIRST_COMPLETED
        )
        ended = {slot: read for slot, read in self._reading.items() if read.future.done()}
        for slot in ended:
            del self._reading[slot]
        # Each ended read's error is retrieved; the first is raised.
        errors = [read.future.exception() for read in ended.values()]
        for error in errors:
            if error is not None:
                raise error
        return [entry for read in ended.values() for entry in read.future.result()]

    async def _reader(self, slot: int, ns: str) -> BlockingConnection:
        """The connection of a slot's reads, opened on first use, to the
        node of the feed of `ns` (of that slot)."""
        reader = self._readers.get(slot)
        if reader is None:
            reader = self._readers[slot] = await self._stack.enter_async_context(
                self._feeds.reader(ns)
            )
        return reader

    async def _drop_reads(self) -> None:
        """Cancels the reads in flight (their connections are about to be
        closed): entries delivered to them stay pending, claimed again later."""
        reading, self._reading = self._reading, {}
        for read in reading.values():
            read.future.cancel()
        await asyncio.gather(*(read.future for read in reading.values()), return_exceptions=True)

    async def _end(self, reads: Iterable[_Read]) -> None:
        """Ends each read still in flight: `CLIENT UNBLOCK`, sent again while
        the read has not ended (the first may reach Redis before the read),
        `JOB_UNBLOCK_TRIES` times at most (after which it ends when its
        time is up)."""

        async def end(read: _Read) -> None:
            for _ in range(JOB_UNBLOCK_TRIES):
                if read.future.done() or await read.reader.interrupt():
                    return

        await asyncio.gather(*(end(read) for read in list(reads)))

    async def _poll(self, groups: Iterable[Sequence[str]]) -> list[FeedEntry]:
        """One read per group, not waiting, `JOB_FEED_READS` at a time."""
        in_flight = asyncio.Semaphore(JOB_FEED_READS)

        async def poll(namespaces: Sequence[str]) -> list[FeedEntry]:
            async with in_flight:
                return await self._feeds.read_now(namespaces, self._consumer, count=JOB_READ_COUNT)

        reads = await asyncio.gather(*(poll(namespaces) for namespaces in groups))
        return [entry for read in reads for entry in read]
