"""The open tails, counted against the caps `--max-tails-per-caller` and
`--max-tails`: a tail over a cap is refused with `RESOURCE_EXHAUSTED`
saying which cap and its value. A caller is its credential, or without
authentication its client's address (`memrpc.rpc.caller`), however many
connections it opens or shares."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator

from memrpc.limits import Limits
from memrpc.rpc.errors import ApiError
from memrpc.v1.error_reason_pb2 import ErrorReason


class TailSlots:
    """The open tails, per caller and in all, within their caps."""

    def __init__(self, limits: Limits) -> None:
        self._per_caller = limits.max_tails_per_caller
        self._total = limits.max_tails
        # How many tails are open, per caller and in all.
        self._open: Counter[str] = Counter()
        self.open = 0

    @contextlib.contextmanager
    def hold(self, caller: str) -> Iterator[None]:
        """Counts a tail of `caller` while the context lasts; raises
        `RESOURCE_EXHAUSTED` when a cap is reached."""
        if self.open >= self._total:
            raise ApiError.exhausted(
                ErrorReason.ERROR_REASON_SERVER_TAILS_EXCEEDED,
                "too many tails open on this server",
                self._total,
                "max_tails",
                "retry later",
            )
        if self._open[caller] >= self._per_caller:
            raise ApiError.exhausted(
                ErrorReason.ERROR_REASON_CALLER_TAILS_EXCEEDED,
                "too many tails open for this caller",
                self._per_caller,
                "max_tails_per_caller",
                "close a tail, or follow more threads per tail",
                subject=caller,
            )
        self._open[caller] += 1
        self.open += 1
        try:
            yield
        finally:
            self.open -= 1
            self._open[caller] -= 1
            if not self._open[caller]:
                del self._open[caller]
