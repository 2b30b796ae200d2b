"""One background job's loop over every namespace feed.

A runner is one consumer (`<host>:<pid>:<random>`) of the job's group on
each feed; any number of runners, in any processes, share the work. Each
step of its loop:

1. now and then (`JOB_NAMESPACES_REFRESH_S`), reads the namespaces with
   turns (`store/namespaces.py`) and creates the group on new feeds;
2. now and then (half the claim idle time), claims the entries left
   unacknowledged for the claim idle time (their consumer crashed, or their
   job failed) and runs them; one delivered `max_deliveries` times already
   is given up on (dead-lettered) instead;
3. reads new entries of every feed (`XREADGROUP`, `JOB_READ_COUNT` per feed,
   blocking up to `JOB_BLOCK_S`; on a Redis Cluster one read per slot, all
   at once: `feed_reads.py`) and runs them.

Running a batch: entries of other event types are acknowledged at once; the
job's entries are grouped by thread, and the job runs once per thread
(`JOB_CONCURRENCY` threads at a time): it does all the work pending on the
thread, so one run covers every entry of the thread in the batch. A run that
succeeds acknowledges its entries; one that fails leaves them pending, to
be claimed again after the claim idle time, unless that was their last
delivery: then they are dead-lettered (moved with the error to
`memrpc:jobdead:{ns}` and acknowledged), counted and logged, so a job that
keeps failing never blocks its feed. Delivery is at least once: a job is
idempotent. In a server, a runner then rests in proportion to the time its
runs took (`RunnerPolicy.work_share`, `--jobs-share`), so that jobs take a
bounded share of the process and the calls the rest; under a sustained load
the job's lag grows meanwhile and is caught up once the load eases (more
turns per fold cost less each).

A failed step (Redis unreachable, a command timed out) is logged, counted,
and retried after a backoff (`JOB_BACKOFF_*`, doubling); the entries it had
read stay pending and are claimed again. `stop` ends the loop after the
step in progress (the reads waiting for entries are ended at once: `CLIENT
UNBLOCK`); an entry whose run did not end is claimed again.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis.exceptions

from memrpc import metrics
from memrpc.config import Settings
from memrpc.jobs.base import Job
from memrpc.jobs.feed_reads import FeedReads
from memrpc.jobs.steps import StepLoop
from memrpc.limits import (
    JOB_BLOCK_S,
    JOB_CLAIM_COUNT,
    JOB_CONCURRENCY,
    JOB_NAMESPACES_REFRESH_S,
    JOB_SAMPLE_S,
)
from memrpc.store.job_feeds import FeedEntry, JobFeeds
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_errors import NoGroupError

log = logging.getLogger("memrpc.jobs")


@dataclass(frozen=True)
class RunnerPolicy:
    """When an unacknowledged entry is claimed again, how many deliveries it
    gets before it is given up on, and what share of the time the runner
    may spend running jobs (1: all of it)."""

    claim_idle_s: float
    max_deliveries: int
    work_share: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings, *, in_server: bool) -> RunnerPolicy:
        """The policy of the settings `--job-claim-idle` and
        `--job-max-deliveries`, and in a server `--jobs-share`."""
        share = settings.jobs_share if in_server else 1.0
        return cls(settings.job_claim_idle, settings.job_max_deliveries, share)

    def rest_after(self, worked_s: float) -> float:
        """How long to rest after `worked_s` seconds of runs, so that runs
        take at most `work_share` of the time."""
        return worked_s * (1 - self.work_share) / self.work_share


@dataclass
class RunnerState:
    """What a runner has seen last: for health and the log."""

    # Feed entries its groups have not been delivered yet, over every
    # namespace, and delivered but unacknowledged (last sample).
    lag: int = 0
    pending: int = 0
    namespaces: int = 0


def consumer_name() -> str:
    """A consumer name of this process, unique among runners: host, process
    id and a random part (a restarted process with a reused pid is another
    consumer)."""
    host = "".join(c if c.isalnum() or c in "._-" else "-" for c in socket.gethostname())
    return f"{host[:32]}:{os.getpid()}:{secrets.token_hex(3)}"


class JobRunner:
    """Runs one job over every namespace feed, until stopped; `by_slot`: on
    a Redis Cluster, reading the feeds of each slot apart."""

    def __init__(
        self,
        job: Job,
        feeds: JobFeeds,
        namespaces: NamespaceSet,
        policy: RunnerPolicy,
        *,
        consumer: str | None = None,
        by_slot: bool = False,
    ) -> None:
        self.job = job
        self.state = RunnerState()
        self._feeds = feeds
        self._namespaces = namespaces
        self._policy = policy
        self._idle_ms = max(1, int(policy.claim_idle_s * 1000))
        self.consumer = consumer or consumer_name()
        self._known: set[str] = set()
        self.loop = StepLoop(feeds.group, job.name)
        self._reads = FeedReads(feeds, self.consumer, by_slot=by_slot, pause=self.loop.pause)
        self._due = {"refresh": 0.0, "claim": 0.0, "sample": 0.0}

    async def stop(self) -> None:
        """Ends the loop after the step in progress (the reads waiting for
        new entries end at once)."""
        self.loop.stop()
        with contextlib.suppress(redis.exceptions.RedisError, OSError):
            await self._reads.interrupt()

    async def run(self) -> None:
        """Runs steps until `stop`; a failed step is retried after a backoff.
        On the way out, leaves the groups where it holds no entry."""
        log.info("job %s running as consumer %s", self._feeds.group, self.consumer)
        await self.loop.run(self._steps)
        await self._leave()

    async def _steps(self) -> None:
        """Steps on the same reader connections, until `stop` or a failure."""
        async with self._reads.open():
            while not self.loop.stopping:
                await self._step()
                self.loop.succeeded()

    def _is_due(self, what: str, period: float) -> bool:
        now = time.monotonic()
        if now < self._due[what]:
            return False
        self._due[what] = now + period
        return True

    async def _step(self) -> None:
        if self._is_due("refresh", JOB_NAMESPACES_REFRESH_S):
            await self._refresh()
        if self._is_due("claim", self._policy.claim_idle_s / 2):
            for ns in sorted(self._known):
                await self._claim(ns)
        if self._is_due("sample", JOB_SAMPLE_S):
            await self._sample()
        if not self._known or self.loop.stopping:
            await self.loop.pause(JOB_BLOCK_S)
            return
        try:
            entries = await self._reads.read(sorted(self._known))
        except NoGroupError:  # a feed deleted since: create the groups again
            self._known.clear()
            self._due["refresh"] = 0.0
            return
        await self._run(entries)

    async def _refresh(self) -> None:
        """Creates the group on the feeds of namespaces new to this runner."""
        for ns in sorted(await self._namespaces.members() - self._known):
            await self._feeds.ensure_group(ns)
            self._known.add(ns)

    async def _claim(self, ns: str) -> None:
        """Runs the entries of a feed left unacknowledged too long; gives up
        on those delivered the most times already."""
        overdue = await self._feeds.overdue(ns, idle_ms=self._idle_ms, count=JOB_CLAIM_COUNT)
        retry = []
        for entry_id, deliveries in overdue:
            if deliveries < self._policy.max_deliveries:
                retry.append((entry_id, deliveries))
                continue
            await self._give_up(
                ns,
                entry_id,
                deliveries,
                f"never acknowledged in {deliveries} deliveries (its runs failed, or their "
                "runners stopped or crashed)",
            )
        await self._run(await self._feeds.claim(ns, self.consumer, retry, idle_ms=self._idle_ms))

    async def _run(self, entries: Sequence[FeedEntry]) -> None:
        """Runs the job once per thread of `entries`; acknowledges what is done."""
        done: list[FeedEntry] = []
        runs: dict[tuple[str, str], list[FeedEntry]] = collections.defaultdict(list)
        for entry in entries:
            if entry.type not in self.job.event_types:
                done.append(entry)
            elif entry.thread is None:
                await self._failed_entries([entry], "a feed entry without a thread")
            else:
                runs[entry.ns, entry.thread].append(entry)
        slots = asyncio.Semaphore(JOB_CONCURRENCY)
        started = time.perf_counter()

        async def run_one(ns: str, thread: str, of_thread: list[FeedEntry]) -> None:
            async with slots:
                error = await self._run_job(ns, thread)
            if error is None:
                done.extend(of_thread)
            else:
                await self._failed_entries(of_thread, error)

        await asyncio.gather(*(run_one(ns, thread, of) for (ns, thread), of in runs.items()))
        await self._acknowledge(done)
        if runs:
            await self.loop.pause(self._policy.rest_after(time.perf_counter() - started))

    async def _run_job(self, ns: str, thread: str) -> str | None:
        """Runs the job on a thread; its error, or None when it succeeded."""
        return (await self.loop.timed(f"{ns}/{thread}", self.job.run(ns, thread))).error

    async def _failed_entries(self, entries: Iterable[FeedEntry], error: str) -> None:
        """Leaves failed entries pending, to be claimed again, but gives up on
        those that had their last delivery."""
        for entry in entries:
            if entry.deliveries >= self._policy.max_deliveries:
                await self._give_up(entry.ns, entry.id, entry.deliveries, error)

    async def _give_up(self, ns: str, entry_id: str, deliveries: int, error: str) -> None:
        if await self._feeds.give_up(ns, entry_id, deliveries, error):
            metrics.job_dead_letter(self.job.name)
            log.error(
                "job %s gave up on feed entry %s of namespace %r after %d deliveries "
                "(moved to its dead letters): %s",
                self._feeds.group,
                entry_id,
                ns,
                deliveries,
                error,
            )

    async def _acknowledge(self, entries: Iterable[FeedEntry]) -> None:
        by_ns: dict[str, list[str]] = collections.defaultdict(list)
        for entry in entries:
            by_ns[entry.ns].append(entry.id)
        for ns, ids in by_ns.items():
            await self._feeds.acknowledge(ns, ids)

    async def _sample(self) -> None:
        """The groups' lag and pending entries, for metrics and health."""
        lag = pending = 0
        for ns in sorted(self._known):
            stats = await self._feeds.stats(ns)
            if stats is not None:
                lag += stats.lag or 0
                pending += stats.pending
        self.state.lag, self.state.pending = lag, pending
        self.state.namespaces = len(self._known)
        metrics.job_sampled(self.job.name, lag, pending)

    async def _leave(self) -> None:
        """Deletes this runner's consumer from the groups where it holds no
        entry (best effort: a Redis gone leaves it behind, harmless)."""
        with contextlib.suppress(redis.exceptions.RedisError, OSError):
            for ns in sorted(self._known):
                await self._feeds.leave(ns, self.consumer)
