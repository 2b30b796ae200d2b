"""A job runner's reads of new entries of every namespace feed, each
waiting up to `JOB_BLOCK_S` for some.

On one Redis, one `XREADGROUP ... BLOCK` names every feed, on a connection
of the runner's own.

On a Redis Cluster (`by_slot`), one `XREADGROUP` may name the feeds of one
slot only (`CROSSSLOT` otherwise, even for two slots of one node), so the
feeds are grouped by slot (`job_feeds.feed_slot`), and each group is read
on a connection to its slot's primary (`JobFeeds.reader`), opened when the
group is first read and kept. A `read` sends the `XREADGROUP ... BLOCK` of
every group at once; the first of them to end (with entries, or with none
when its time is up) ends the others (`CLIENT UNBLOCK`, on the node of
each, sent up to `JOB_UNBLOCK_TRIES` times while it has not ended), and the
`read` returns the entries of all of them. So a slot with new entries is
read again as soon as its batch has run, never held up by an idle slot's
wait, and no entry delivered is left behind.

Bounded: at most `JOB_FEED_READS` reads in flight, and as many connections.
When the groups outnumber them (the namespaces are in more slots), the
reads do not wait: the connections are closed, every group is read without
blocking (`JobFeeds.read_now`, on the shared connections, `JOB_FEED_READS`
at a time), and a `read` that found nothing waits `JOB_BLOCK_S` (`pause`).
An idle runner then sends one `XREADGROUP` per slot in use every
`JOB_BLOCK_S`, and a new entry waits up to that long.

A read that fails (NOGROUP, a node lost, a slot moved: `MOVED`) ends the
others the same way, then raises its error. On a node lost or a slot moved
the runner's step fails, and the runner leaves `open`, which closes every
connection with that error: the cluster client reads the slot map again or
learns the slot's new primary (`ClusterMux.dedicated`), and the runner's
next step, after its backoff, reads on new connections, to the right nodes.
Entries delivered to the reads of a step that failed (or whose reply was
lost) stay pending for the runner's consumer, and are claimed again after
the claim idle time (`runner.py`): none is lost.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence

from memrpc.limits import JOB_BLOCK_S, JOB_FEED_READS, JOB_READ_COUNT, JOB_UNBLOCK_TRIES
from memrpc.store.blocking import BlockingConnection
from memrpc.store.job_feeds import FeedEntry, JobFeeds, feed_slot

_BLOCK_MS = int(JOB_BLOCK_S * 1000)

_Reads = dict[BlockingConnection, asyncio.Future[list[FeedEntry]]]


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
        self._reading: _Reads = {}

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[None]:
        """Reads may be made while the context lasts, on connections opened
        when first needed; they are closed on exit, with the error that
        ended the context if any (see the module docstring)."""
        async with contextlib.AsyncExitStack() as self._stack:
            try:
                yield
            finally:
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
            self._readers = {}
            await self._stack.pop_all().aclose()
        entries = await self._poll(groups.values())
        if not entries:
            await self._pause(JOB_BLOCK_S)
        return entries

    async def interrupt(self) -> None:
        """Ends the reads in flight at once, with what they were delivered."""
        await self._end(dict(self._reading))

    async def _wait_for(self, groups: Mapping[int, Sequence[str]]) -> list[FeedEntry]:
        """One waiting read per group, each on its connection: the first to
        end ends the others."""
        reads: _Reads = {}
        self._reading = reads
        try:
            for slot, namespaces in groups.items():
                reader = await self._reader(slot, namespaces[0])
                reads[reader] = asyncio.ensure_future(
                    self._feeds.read(
                        reader, namespaces, self._consumer, count=JOB_READ_COUNT, block_ms=_BLOCK_MS
                    )
                )
            await asyncio.wait(reads.values(), return_when=asyncio.FIRST_COMPLETED)
            await self._end(reads)
            await asyncio.wait(reads.values())
            return [entry for read in reads.values() for entry in read.result()]
        finally:
            self._reading = {}
            for read in reads.values():
                read.cancel()
            await asyncio.gather(*reads.values(), return_exceptions=True)

    async def _reader(self, slot: int, ns: str) -> BlockingConnection:
        """The connection of a slot's reads, opened on first use, to the
        node of the feed of `ns` (of that slot)."""
        reader = self._readers.get(slot)
        if reader is None:
            reader = self._readers[slot] = await self._stack.enter_async_context(
                self._feeds.reader(ns)
            )
        return reader

    async def _end(self, reads: _Reads) -> None:
        """Ends each read still in flight: `CLIENT UNBLOCK`, sent again while
        the read has not ended (the first may reach Redis before the read),
        `JOB_UNBLOCK_TRIES` times at most (after which it ends when its
        time is up)."""

        async def end(reader: BlockingConnection, read: asyncio.Future[list[FeedEntry]]) -> None:
            for _ in range(JOB_UNBLOCK_TRIES):
                if read.done() or await reader.interrupt():
                    return

        await asyncio.gather(*(end(reader, read) for reader, read in reads.items()))

    async def _poll(self, groups: Iterable[Sequence[str]]) -> list[FeedEntry]:
        """One read per group, not waiting, `JOB_FEED_READS` at a time."""
        in_flight = asyncio.Semaphore(JOB_FEED_READS)

        async def poll(namespaces: Sequence[str]) -> list[FeedEntry]:
            async with in_flight:
                return await self._feeds.read_now(namespaces, self._consumer, count=JOB_READ_COUNT)

        reads = await asyncio.gather(*(poll(namespaces) for namespaces in groups))
        return [entry for read in reads for entry in read]
