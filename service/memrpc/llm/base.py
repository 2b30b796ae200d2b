"""What the jobs ask of a language model, whatever serves it.

Every method is one call to the model for namespace `ns`, counted against
that namespace's budget (`LanguageModelPolicy.max_calls_per_minute`). A call
either returns output that passed its schema or raises `LanguageModelError`
after its retries: the caller then does that work without the model and
reports it, never writing half of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from memrpc.summaries.base import FoldTurn


class Failure(StrEnum):
    """Why a call to the model gave up (the `reason` of metrics and events)."""

    # The reply was not JSON, or not of the schema, every attempt.
    MALFORMED = "malformed"
    # No reply within the time-out, every attempt.
    TIMEOUT = "timeout"
    # 429 every attempt, or the namespace's budget is spent.
    RATE_LIMITED = "rate_limited"
    # 5xx, or the connection failed, every attempt.
    UNAVAILABLE = "unavailable"
    # Any other HTTP status (e.g. 400, 401): retrying would not help.
    REFUSED = "refused"


class LanguageModelError(Exception):
    """A call to the model failed for good, after `attempts` attempts."""

    def __init__(self, failure: Failure, attempts: int, detail: str) -> None:
        super().__init__(f"language model call {failure} after {attempts} attempt(s): {detail}")
        self.failure = failure
        self.attempts = attempts
        self.detail = detail


@dataclass(frozen=True)
class Fact:
    """A fact or preference stated in turns, as one self-contained sentence
    about the user ("The user's sister is called Ingrid.")."""

    text: str


class LanguageModel(Protocol):
    """The calls the jobs make to a language model."""

    @property
    def name(self) -> str:
        """The model's name (`--llm-model`), as summaries report it."""
        ...

    async def extract_facts(self, ns: str, turns: Sequence[FoldTurn]) -> list[Fact]:
        """The facts and preferences `turns` (oldest first) state that are
        worth remembering beyond the conversation; [] for none."""
        ...

    async def summarize(
        self, ns: str, summary: str, turns: Sequence[FoldTurn], *, max_chars: int
    ) -> str:
        """An abstractive summary of `summary` (so far; '' for none) and
        `turns`, in at most `max_chars` characters."""
        ...

    async def contradicted(self, ns: str, newer: str, older: Sequence[str]) -> list[int]:
        """The indexes of the `older` facts that fact `newer` contradicts
        (makes no longer true), [] for none."""
        ...
