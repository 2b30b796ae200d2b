"""Optimistic concurrency, as every store reports it: a write that expected
its resource (a session, a memory) at a version it is not at writes nothing
and raises `VersionMismatch` with the version it is at."""

from __future__ import annotations


class VersionMismatch(Exception):
    """The resource is not at the version the caller expected (`current` 0:
    it does not exist)."""

    def __init__(self, current: int) -> None:
        super().__init__(f"current version is {current}")
        self.current = current
