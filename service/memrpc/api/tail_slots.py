"""The open tails, counted against the caps `--max-tails-per-connection`
and `--max-tails`: a tail over a cap is refused with `RESOURCE_EXHAUSTED`
saying which cap and its value."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

from memrpc.limits import Limits
from memrpc.rpc.errors import ApiError


class TailSlots:
    """The open tails, per client connection and in all, within their caps."""

    def __init__(self, limits: Limits) -> None:
        self._per_connection = limits.max_tails_per_connection
        self._total = limits.max_tails
        # How many tails are open, per connection and in all.
        self._open: Counter[str] = Counter()
        self.open = 0

    @contextlib.contextmanager
    def hold(self, peer: str) -> Iterator[None]:
        """Counts a tail of the connection `peer` while the context lasts;
        raises `RESOURCE_EXHAUSTED` when a cap is reached."""
        if self.open >= self._total:
            raise ApiError.exhausted(
                "too many tails open on this server",
                self._total,
                "max_tails",
                "retry later",
            )
        if self._open[peer] >= self._per_connection:
            raise ApiError.exhausted(
                "too many tails open on this connection",
                self._per_connection,
                "max_tails_per_connection",
                "close a tail, follow more threads per tail, or open another connection",
            )
        self._open[peer] += 1
        self.open += 1
        try:
            yield
        finally:
            self.open -= 1
            self._open[peer] -= 1
            if not self._open[peer]:
                del self._open[peer]
