"""What a background job is, to the runner that runs it."""

from __future__ import annotations

from typing import Protocol

from memrpc.limits import RESERVED_GROUP_PREFIX


class Job(Protocol):
    """Work to do on a thread when events of some types come in its feed.

    A run must be idempotent: the runner delivers at least once, so the same
    entries may come again (a consumer crashed before acknowledging, another
    claimed them). A run covers every entry of its thread in the batch, so it
    must do all the work pending on the thread, not the work of one event.
    """

    @property
    def name(self) -> str:
        """The job's name (`summaries`): its group is `memrpc.<name>`."""
        ...

    @property
    def event_types(self) -> frozenset[str]:
        """The types of the events it runs on; others are acknowledged at once."""
        ...

    async def run(self, ns: str, thread: str) -> None:
        """Does the work pending on a thread; raises when it failed."""
        ...


def group_of(job: Job) -> str:
    """The consumer group of a job on every feed."""
    return RESERVED_GROUP_PREFIX + job.name


class PeriodicJob(Protocol):
    """Work to do over a whole namespace every so often (consolidation,
    forgetting), rather than on a thread's events.

    The periodic runner (`jobs/periodic.py`) runs it at most once per
    `interval_s` per namespace across every process (a lease in Redis). A run
    must be bounded (in steps and Redis time) and safe to repeat or to stop
    at any point: it returns whether work remains, and the runner then runs
    it again soon rather than after a whole interval.
    """

    @property
    def name(self) -> str:
        """The job's name (`consolidation`), in metrics and leases."""
        ...

    async def interval_s(self, ns: str) -> float | None:
        """How often the job runs over `ns` (its namespace policy); None when
        the namespace's policy turns it off."""
        ...

    async def run(self, ns: str, now_ms: int) -> bool:
        """Does one bounded run over `ns` as of `now_ms`; returns True when
        work remains (the next run comes soon), False when done."""
        ...
