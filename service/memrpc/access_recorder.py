"""The access recorder: which memories the searches of this process
returned, gathered in memory and written to them in the background.

A search (`api/memory_search.py`) only adds its matches to a dict,
`(namespace, memory id) -> [count, last ms]`, merged per memory: it never
waits for Redis. Every `ACCESS_FLUSH_S` the recorder takes the dict and
writes it (`store/access.py`), one namespace at a time, in batches of at
most `ACCESS_FLUSH_BATCH` memories, one script call each, one call after
the other, resting after each so that the writes take at most
`ACCESS_FLUSH_SHARE` of the time. So an access count lags its searches by
about a second (more when many memories wait), and a memory returned by
many searches in that second is written once: what Redis pays, an index
update of each memory written, grows with the memories searches return,
not with the searches.

Memory is bounded: beyond `ACCESS_MAX_PENDING` memories waiting, a search's
new ones are dropped and counted (`memrpc_memory_accesses_dropped`). A
batch Redis refused is put back for the next flush (what no longer fits is
dropped). `close` writes what is left, within the time it is given; the
accesses of a process that dies are lost (at most about a second's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable, Iterator

import redis.exceptions

from memrpc import metrics
from memrpc.limits import (
    ACCESS_FLUSH_BATCH,
    ACCESS_FLUSH_S,
    ACCESS_FLUSH_SHARE,
    ACCESS_MAX_PENDING,
)
from memrpc.store.access import Access, AccessStore

log = logging.getLogger("memrpc.access")

# What waits for a memory: [count, last ms].
_Pending = dict[tuple[str, str], list[int]]


class AccessRecorder:
    """Gathers the memories searches return and writes their access counts
    every `interval_s` (`start`), in batches of `batch` memories, taking at
    most `share` of the time, with at most `max_pending` memories waiting."""

    def __init__(
        self,
        store: AccessStore,
        *,
        interval_s: float = ACCESS_FLUSH_S,
        batch: int = ACCESS_FLUSH_BATCH,
        share: float = ACCESS_FLUSH_SHARE,
        max_pending: int = ACCESS_MAX_PENDING,
    ) -> None:
        self._store = store
        self._interval_s = interval_s
        self._batch = batch
        self._share = share
        self._max_pending = max_pending
        self._pending: _Pending = {}
        # One flush at a time: a flush returns once every access recorded
        # before it is written, even those a flush under way took.
        self._flushing = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # Set by `close`: a flush under way stops resting.
        self._closing = False

    @property
    def pending(self) -> int:
        """Memories whose accesses wait to be written."""
        return len(self._pending)

    def record(self, ns: str, memory_ids: Iterable[str]) -> None:
        """One search of `ns` returned `memory_ids` (distinct), now."""
        now_ms = time.time_ns() // 1_000_000
        pending = self._pending
        recorded = dropped = 0
        for memory_id in memory_ids:
            entry = pending.get((ns, memory_id))
            if entry is not None:
                entry[0] += 1
                entry[1] = now_ms
            elif len(pending) < self._max_pending:
                pending[ns, memory_id] = [1, now_ms]
            else:
                dropped += 1
                continue
            recorded += 1
        metrics.accesses_recorded(recorded, dropped)

    async def flush(self, *, rest: bool = False) -> int:
        """Writes every access recorded so far; returns how many memories
        were written (those deleted since are not). With `rest`, waits
        after each batch so that writing takes at most the recorder's share
        of the time. A batch Redis refuses is put back, and its error
        raised once the others are written; a flush cancelled puts back
        the batches it did not start."""
        async with self._flushing:
            taken, self._pending = self._pending, {}
            if not taken:
                return 0
            started = time.perf_counter()
            batches = list(self._batches(taken))
            written = done = 0
            took = 0.0
            failure: BaseException | None = None
            try:
                for ns, batch in batches:
                    if rest and done and not self._closing:
                        await asyncio.sleep(took * (1 - self._share) / self._share)
                    began = time.perf_counter()
                    try:
                        written += await self._store.write(ns, batch)
                    except (redis.exceptions.RedisError, OSError) as exc:
                        self._put_back(ns, batch)
                        failure = exc
                    finally:  # a batch cut short may or may not be written: done
                        done += 1
                    took = time.perf_counter() - began
            finally:  # cancelled: the batches not started wait for the next flush
                for ns, batch in batches[done:]:
                    self._put_back(ns, batch)
            metrics.access_flushed(time.perf_counter() - started)
            if failure is not None:
                raise failure
            return written

    def _batches(self, taken: _Pending) -> Iterator[tuple[str, list[Access]]]:
        """The accesses of `taken` in batches of one namespace each."""
        by_namespace: dict[str, list[Access]] = {}
        for (ns, memory_id), (count, last_ms) in taken.items():
            by_namespace.setdefault(ns, []).append(Access(memory_id, count, last_ms))
        for ns, accesses in by_namespace.items():
            for first in range(0, len(accesses), self._batch):
                yield ns, accesses[first : first + self._batch]

    def _put_back(self, ns: str, accesses: Iterable[Access]) -> None:
        """Returns unwritten accesses to the pending ones, merged with those
        recorded since; those that no longer fit are dropped."""
        pending = self._pending
        dropped = 0
        for access in accesses:
            entry = pending.get((ns, access.memory_id))
            if entry is not None:
                entry[0] += access.count
                entry[1] = max(entry[1], access.last_ms)
            elif len(pending) < self._max_pending:
                pending[ns, access.memory_id] = [access.count, access.last_ms]
            else:
                dropped += 1
        metrics.accesses_recorded(0, dropped)

    def start(self) -> None:
        """Starts writing the accesses every `interval_s`, in the background."""
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                # Shielded: `close` waits for a flush under way, which
                # stopping the task would otherwise cut short.
                await asyncio.shield(self.flush(rest=True))
            except (redis.exceptions.RedisError, OSError) as exc:
                log.warning(
                    "access counts: a write failed (%s); %d memories wait for the next",
                    exc,
                    self.pending,
                )

    async def close(self, within_s: float) -> None:
        """Stops the background writes, then writes what is left within
        `within_s` seconds (what it cannot write is lost, and logged)."""
        self._closing = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.wait_for(self.flush(), within_s)
        except (TimeoutError, redis.exceptions.RedisError, OSError) as exc:
            log.warning(
                "access counts: %d memories' accesses not written at shutdown: %s",
                self.pending,
                str(exc) or "out of time",
            )
