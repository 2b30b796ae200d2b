"""One periodic job's loop over every namespace (`jobs/base.PeriodicJob`:
consolidation, forgetting).

Every `PERIODIC_TICK_S`, a runner reads the namespaces (`store/namespaces.py`)
and, for each whose policy turns the job on (`interval_s` not None), takes
the job's lease of the namespace (`store/leases.py`: `SET NX PX`, for the
interval) and, when it got it, runs the job once, as of now. The lease is
one key per namespace and job across every process, so a namespace's job
runs at most once per interval, whichever runners (servers with `--jobs`,
`memrpc worker`s) tick. A runner that finds the lease held learns for how
long, and does not ask again before then: it asks Redis about a namespace
about once an interval rather than every tick. Afterwards the runner that
ran shortens its lease:

- to `PERIODIC_AGAIN_S` when the run returned True (work remains: a run is
  bounded), so that the next tick runs it again rather than an interval on;
- after a failed run (it raised), to a backoff, `PERIODIC_RETRY_FIRST_S`
  doubled after each failure in a row, up to the interval; the run is
  logged and counted like the event jobs' (`StepLoop.timed`).

Each run is timed and counted by outcome (`memrpc_job_runs`,
`memrpc_job_duration_seconds`, by the job's name): the cost of each job. In
a server, the runner rests after each run in proportion to its time
(`RunnerPolicy.rest_after`, `--jobs-share`). A failed tick (Redis
unreachable) is logged, counted and retried after a backoff, as the event
runners' steps are (`jobs/steps.py`). `stop` ends the loop after the run
in progress, and its wait at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from memrpc.jobs.base import PeriodicJob
from memrpc.jobs.runner import RunnerPolicy
from memrpc.jobs.steps import StepLoop
from memrpc.limits import PERIODIC_AGAIN_S, PERIODIC_RETRY_FIRST_S, PERIODIC_TICK_S
from memrpc.store.leases import Leases
from memrpc.store.namespaces import NamespaceSet

log = logging.getLogger("memrpc.jobs")


@dataclass
class PeriodicState:
    """What a periodic runner has seen last: for health and the log."""

    # Namespaces whose policy turns the job on, at the last tick.
    namespaces: int = 0
    # Namespaces whose last run here left work, or failed.
    unfinished: int = 0
    # Ticks done and runs made by this runner.
    ticks: int = 0
    runs: int = 0


class PeriodicRunner:
    """Runs one periodic job over every namespace, until stopped."""

    def __init__(
        self, job: PeriodicJob, leases: Leases, namespaces: NamespaceSet, policy: RunnerPolicy
    ) -> None:
        self.job = job
        self.state = PeriodicState()
        self.loop = StepLoop(job.name, job.name)
        self._leases = leases
        self._namespaces = namespaces
        self._policy = policy
        # Namespace: failed runs in a row (0: its last run here left work).
        self._unfinished: dict[str, int] = {}
        # Namespace: when another runner's lease of it ends (monotonic s).
        self._held_until: dict[str, float] = {}

    async def stop(self) -> None:
        """Ends the loop after the run in progress."""
        self.loop.stop()

    async def run(self) -> None:
        """Ticks until `stop`; a failed tick is retried after a backoff."""
        log.info("periodic job %s running", self.job.name)
        await self.loop.run(self._ticks)

    async def _ticks(self) -> None:
        while not self.loop.stopping:
            await self._tick()
            self.loop.succeeded()
            self.state.ticks += 1
            await self.loop.pause(PERIODIC_TICK_S)

    async def _tick(self) -> None:
        """Runs the job over each namespace whose lease it gets."""
        enabled = 0
        for ns in sorted(await self._namespaces.members()):
            if self.loop.stopping:
                return
            if time.monotonic() < self._held_until.get(ns, 0.0):
                enabled += 1  # on when its lease was found held: not read again before it ends
                continue
            interval = await self.job.interval_s(ns)
            if interval is None:
                self._unfinished.pop(ns, None)
                continue
            enabled += 1
            interval_ms = max(1, int(interval * 1000))
            held_ms = await self._leases.take(ns, interval_ms)
            if held_ms:
                self._held_until[ns] = time.monotonic() + held_ms / 1000
            else:
                await self._run(ns, interval_ms)
        self.state.namespaces = enabled
        self.state.unfinished = len(self._unfinished)

    async def _run(self, ns: str, interval_ms: int) -> None:
        """One run over `ns`, whose lease this runner holds."""
        started = time.perf_counter()
        ran = await self.loop.timed(ns, self.job.run(ns, time.time_ns() // 1_000_000))
        self.state.runs += 1
        if ran.error is not None:
            failures = self._unfinished.get(ns, 0) + 1
            self._unfinished[ns] = failures
            retry_ms = int(PERIODIC_RETRY_FIRST_S * 1000 * 2 ** (failures - 1))
            await self._leases.keep(ns, min(retry_ms, interval_ms))
        elif ran.value:
            self._unfinished[ns] = 0
            await self._leases.keep(ns, max(1, int(PERIODIC_AGAIN_S * 1000)))
        else:
            self._unfinished.pop(ns, None)
        await self.loop.pause(self._policy.rest_after(time.perf_counter() - started))
