"""The restart delay policy shared by the supervisors of child processes."""

from __future__ import annotations

import time


class RestartBackoff:
    """Delays before restarting a process that died: from `first`, doubling
    up to `last` while it keeps dying, back to `first` once it stayed up for
    `stable_after` seconds."""

    def __init__(self, first: float = 0.1, last: float = 5.0, stable_after: float = 30.0) -> None:
        self._first = first
        self._last = last
        self._stable_after = stable_after
        self._delay = first
        self._up_since = time.monotonic()

    def started(self) -> None:
        """Records that the process (re)started now."""
        self._up_since = time.monotonic()

    def next_delay(self) -> float:
        """The delay before the next restart attempt."""
        if time.monotonic() - self._up_since >= self._stable_after:
            self._delay = self._first
        delay = self._delay
        self._delay = min(delay * 2, self._last)
        return delay
