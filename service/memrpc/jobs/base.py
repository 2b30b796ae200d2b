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
