"""What a summarizer takes and gives."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FoldTurn:
    """A turn that left a window, as read back from the thread's event log."""

    event_id: str
    role: str
    content: str


class Summarizer(Protocol):
    """Folds turns into a running summary."""

    @property
    def name(self) -> str:
        """What `SessionSummary.summarizer` reports, e.g. `extractive`."""
        ...

    async def fold(self, summary: str, turns: Sequence[FoldTurn], *, max_chars: int) -> str:
        """The summary of `summary` (the summary so far, '' for none) and
        `turns` (oldest first), in at most `max_chars` characters."""
        ...
