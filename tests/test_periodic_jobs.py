"""The periodic-job runner (memrpc/jobs/periodic.py) on the real Redis:
runners of two processes' worth run a namespace's job once per interval
(its lease), again at the next tick while a run leaves work, never where
the policy is off, after a backoff when a run fails, and stop cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY

import memrpc.jobs.periodic
from memrpc import metrics
from memrpc.jobs.periodic import PeriodicRunner
from memrpc.jobs.runner import RunnerPolicy
from memrpc.jobs.runtime import BackgroundJobs, Jobs
from memrpc.store import keys
from memrpc.store.leases import Leases
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_mux import RedisMux
from support import started
from test_faults import eventually

POLICY = RunnerPolicy(claim_idle_s=1.0, max_deliveries=3)
# An interval no test outlasts: a second run within it is the lease's failure.
HOUR_S = 3600.0


class Periodic:
    """A periodic job over the namespaces it is given (None: its policy is
    off there) that records its runs; it returns `more` in turn (then
    False), fails its first `failures` runs, and waits for `gate` when given."""

    def __init__(
        self,
        intervals: dict[str, float | None],
        more: list[bool] | None = None,
        failures: int = 0,
        gate: asyncio.Event | None = None,
    ) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}"
        self.intervals = intervals
        self.more = list(more or [])
        self.failures = failures
        self.gate = gate
        self.runs: list[tuple[str, int]] = []

    async def interval_s(self, ns: str) -> float | None:
        return self.intervals.get(ns)

    async def run(self, ns: str, now_ms: int) -> bool:
        self.runs.append((ns, now_ms))
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise RuntimeError("the job failed")
        return self.more.pop(0) if self.more else False


@pytest.fixture(autouse=True)
def fast_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ticks every 20 ms; a lease kept for more work or a retry outlives
    none of them."""
    monkeypatch.setattr(memrpc.jobs.periodic, "PERIODIC_TICK_S", 0.02)
    monkeypatch.setattr(memrpc.jobs.periodic, "PERIODIC_AGAIN_S", 0.005)
    monkeypatch.setattr(memrpc.jobs.periodic, "PERIODIC_RETRY_FIRST_S", 0.005)


@contextlib.asynccontextmanager
async def running(mux: RedisMux, job: Periodic) -> AsyncIterator[PeriodicRunner]:
    runner = PeriodicRunner(job, Leases(mux, job.name), NamespaceSet(mux), POLICY)
    async with started(runner):
        yield runner


async def ticked(*runners: PeriodicRunner, ticks: int = 5) -> None:
    """Waits until each runner has ticked `ticks` more times."""
    targets = [(runner, runner.state.ticks + ticks) for runner in runners]
    await eventually(
        lambda: all(runner.state.ticks >= target for runner, target in targets),
        f"{ticks} more ticks",
    )


async def new_namespace(mux: RedisMux) -> str:
    ns = f"p{uuid.uuid4().hex[:12]}"
    await NamespaceSet(mux).note(ns)
    return ns


async def test_two_runners_run_a_namespaces_job_once_per_interval(mux: RedisMux) -> None:
    ns = await new_namespace(mux)
    job = Periodic({ns: HOUR_S})
    async with running(mux, job) as one, running(mux, job) as two:
        await eventually(lambda: len(job.runs) >= 1, "a first run")
        await ticked(one, two)
        assert [run_ns for run_ns, _ in job.runs] == [ns]
        # The lease lasts the interval.
        ttl = await mux.execute("PTTL", keys.lease(ns, job.name))
        assert HOUR_S * 1000 - 60_000 < ttl <= HOUR_S * 1000
    assert one.state.runs + two.state.runs == 1


async def test_runs_of_two_runners_are_an_interval_apart(mux: RedisMux) -> None:
    ns = await new_namespace(mux)
    job = Periodic({ns: 0.5})
    async with running(mux, job), running(mux, job):
        await eventually(lambda: len(job.runs) >= 3, "three runs")
    # Each run as of a time at least the interval after the one before
    # (less the few ms between a lease taken and the time of its run).
    times = [now for _, now in job.runs]
    assert all(later - earlier >= 450 for earlier, later in itertools.pairwise(times))


async def test_a_run_that_leaves_work_runs_again_at_the_next_tick(mux: RedisMux) -> None:
    ns = await new_namespace(mux)
    job = Periodic({ns: HOUR_S}, more=[True, True])
    async with running(mux, job) as runner:
        await eventually(lambda: len(job.runs) >= 3, "runs until no work is left")
        await ticked(runner)
        assert runner.state.unfinished == 0
    assert len(job.runs) == 3
    # Each run as of its own time.
    assert [now for _, now in job.runs] == sorted(now for _, now in job.runs)


async def test_a_namespace_whose_policy_is_off_never_runs(mux: RedisMux) -> None:
    off, on = await new_namespace(mux), await new_namespace(mux)
    job = Periodic({off: None, on: HOUR_S})
    async with running(mux, job) as runner:
        await eventually(lambda: len(job.runs) >= 1, "the other namespace's run")
        await ticked(runner)
        assert runner.state.namespaces >= 1
    assert [run_ns for run_ns, _ in job.runs] == [on]
    assert await mux.execute("EXISTS", keys.lease(off, job.name)) == 0


async def test_a_failed_run_is_counted_and_tried_again_after_a_backoff(mux: RedisMux) -> None:
    ns = await new_namespace(mux)
    job = Periodic({ns: HOUR_S}, failures=2)

    def runs(outcome: str) -> float:
        labels = {"job_name": job.name, "outcome": outcome}
        return REGISTRY.get_sample_value("memrpc_job_runs_total", labels) or 0.0

    metrics.enable()
    try:
        async with running(mux, job) as runner:
            await eventually(lambda: len(job.runs) >= 3, "two failures, then a run")
            await ticked(runner)
            assert not runner.loop.error  # a failed run is not a failed tick
        assert len(job.runs) == 3
        assert (runs("failed"), runs("done")) == (2, 1)
        durations = {"job_name": job.name}
        assert REGISTRY.get_sample_value("memrpc_job_duration_seconds_count", durations) == 3
    finally:
        metrics.disable()


async def test_a_lease_is_kept_only_by_the_runner_that_took_it(mux: RedisMux) -> None:
    ns = await new_namespace(mux)
    mine, theirs = Leases(mux, "job"), Leases(mux, "job")
    assert await mine.take(ns, 60_000) == 0
    assert 30_000 < await theirs.take(ns, 60_000) <= 60_000  # held that much longer
    assert not await theirs.keep(ns, 1)
    assert await mine.keep(ns, 30_000)
    assert 0 < await mux.execute("PTTL", keys.lease(ns, "job")) <= 30_000


async def test_the_runners_stop_cleanly_idle_or_mid_run(mux: RedisMux) -> None:
    ns = await new_namespace(mux)
    idle = Periodic({})
    async with running(mux, idle) as runner:
        await ticked(runner, ticks=2)
    # Stopping a run in progress: the grace is over, it is cancelled.
    gate = asyncio.Event()
    busy = Periodic({ns: HOUR_S}, gate=gate)
    jobs = BackgroundJobs(mux, Jobs(events=[], periodic=[busy]), POLICY)
    jobs.start()
    await eventually(lambda: len(busy.runs) == 1, "a run in progress")
    assert jobs.healthy
    assert f"{busy.name}: " in jobs.describe()
    await asyncio.wait_for(jobs.stop(grace=0.1), 10)
