"""The server's configurable limits, and the count of open tails they cap.

Request content over a limit is refused with `INVALID_ARGUMENT` naming the
field (the checks are in the servicers and `validate`); a tail over a
concurrency cap with `RESOURCE_EXHAUSTED` saying which cap and its value.
Every limit, its default and its flag are listed in docs/security.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import grpc

from memrpc.api.errors import ApiError
from memrpc.config import Settings
from memrpc.store.events import TAIL_BATCH


@dataclass(frozen=True)
class Limits:
    """What one request may hold and how many tails may be open: the
    settings of the same names (`memrpc.config.Settings` describes each and
    holds the defaults, the limits the proto documents)."""

    max_message_bytes: int
    max_batch_items: int
    max_text_chars: int
    max_metadata_bytes: int
    max_search_limit: int
    max_tails_per_connection: int
    max_tails: int
    tail_max_lag_events: int

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if getattr(self, field.name) < 1:
                raise ValueError(f"--{_flag(field.name)} must be at least 1")
        if self.tail_max_lag_events < TAIL_BATCH:
            raise ValueError(
                f"--{_flag('tail_max_lag_events')} must be at least {TAIL_BATCH} "
                "(the events of one read of a thread)"
            )

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits the settings set (a field of each name)."""
        return cls(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(cls)})


def _flag(name: str) -> str:
    """The command-line flag of a limit, without its dashes."""
    return name.replace("_", "-")


def exhausted(what: str, limit: int, setting: str, advice: str) -> ApiError:
    """`RESOURCE_EXHAUSTED` naming the cap that was hit and its value."""
    return ApiError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"{what}, the limit is {limit} (server setting --{_flag(setting)}); {advice}",
    )


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
            raise exhausted(
                "too many tails open on this server",
                self._total,
                "max_tails",
                "retry later",
            )
        if self._open[peer] >= self._per_connection:
            raise exhausted(
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
