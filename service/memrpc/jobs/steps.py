"""What every runner of background jobs shares (`runner.py` for the jobs
on events, `periodic.py` for the periodic ones): a loop of steps until
stopped, in which a failed step (Redis unreachable, a command timed out)
is logged, counted (`memrpc_job_step_errors`) and retried after a backoff
(`JOB_BACKOFF_*`, doubling), and the wait (a rest, a backoff, an idle
wait) that `stop` ends at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import redis.exceptions

from memrpc import metrics
from memrpc.limits import JOB_BACKOFF_FIRST_S, JOB_BACKOFF_LAST_S

log = logging.getLogger("memrpc.jobs")

T = TypeVar("T")


@dataclass(frozen=True)
class Ran(Generic[T]):
    """The outcome of one run of a job: what it returned, or its error."""

    value: T | None = None
    error: str | None = None


class StepLoop:
    """The loop of one runner: `label` names it in the log, `job` in the
    metrics. `error` holds the last failed step's error while the steps
    since have failed too; '' once a step succeeds."""

    def __init__(self, label: str, job: str) -> None:
        self.label = label
        self.job = job
        self.error = ""
        self._stopping = asyncio.Event()
        self._delay = JOB_BACKOFF_FIRST_S

    @property
    def stopping(self) -> bool:
        """Whether `stop` was called."""
        return self._stopping.is_set()

    def stop(self) -> None:
        """Ends the loop after the step in progress, and any wait at once."""
        self._stopping.set()

    async def run(self, steps: Callable[[], Awaitable[None]]) -> None:
        """Calls `steps` until `stop`; when it raises a Redis or connection
        error, logs and counts it and calls it again after the backoff.
        `steps` calls `succeeded` after each step that did."""
        while not self.stopping:
            try:
                await steps()
            except (redis.exceptions.RedisError, OSError) as exc:
                self._failed(exc)
                await self.pause(self._delay)
                self._delay = min(self._delay * 2, JOB_BACKOFF_LAST_S)

    def succeeded(self) -> None:
        """A step succeeded: the backoff starts again from its first delay."""
        self._delay = JOB_BACKOFF_FIRST_S
        if self.error:
            log.info("job %s: running again (was: %s)", self.label, self.error)
            self.error = ""

    def _failed(self, exc: BaseException) -> None:
        error = f"{type(exc).__name__}: {exc}"
        if error != self.error:
            log.warning("job %s: %s; retrying with backoff", self.label, error)
        self.error = error
        metrics.job_step_failed(self.job)

    async def pause(self, seconds: float) -> None:
        """Waits `seconds` (a rest, a backoff, an idle wait), or until `stop`."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), seconds)

    async def timed(self, where: str, run: Awaitable[T]) -> Ran[T]:
        """Runs the job once (on `where`, for the log): timed and counted
        by outcome (`memrpc_job_runs`, `memrpc_job_duration_seconds`); a
        failure is logged, and returned rather than raised."""
        started = time.perf_counter()
        try:
            value = await run
        except Exception as exc:  # any failure of a run is the runner's to retry
            error = f"{type(exc).__name__}: {exc}"
            log.warning("job %s failed on %s: %s", self.label, where, error)
            metrics.job_ran(self.job, ok=False, seconds=time.perf_counter() - started)
            return Ran(error=error)
        metrics.job_ran(self.job, ok=True, seconds=time.perf_counter() - started)
        return Ran(value)
