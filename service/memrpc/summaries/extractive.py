"""The default summarizer: extractive, with the server's embedding model and
no language model or network.

A summary is a list of units, one a line, oldest first, each saying who
said it: `user: My sister Ingrid lands on LH 2417 at 6:35 pm.` A fold
reads only the summary so far and the new turns, never older turns:

1. **Candidates.** The summary's units (each line, split at its first
   `: ` into role and text) and the sentences of each new turn
   (`sentences.py`; a sentence over `SUMMARY_MAX_UNIT_CHARS` is cut into
   pieces) less the trivia (`Salience.trivia`: greetings, thanks,
   questions without content). A line longer than the whole budget is
   shortened at a word boundary. The work is bounded: at most
   `SUMMARY_MAX_NEW_CANDIDATES` sentences of the new turns, taken in
   rounds (every turn's most specific sentence, then every turn's second
   most specific, ...), the most specific first within a round, so that
   folding many turns at once keeps the best of each rather than all of
   the first ones; and the summary's units, up to `SUMMARY_MAX_CANDIDATES`
   in all (its most specific, when a large budget holds more).
2. **Weights.** Every candidate's text is embedded in one call (units of
   the old summary were embedded by the previous fold, so the embedder's
   cache answers them). A candidate's relevance mixes its centrality
   (cosine to the centroid of all candidates) with its specificity
   (`Salience.specificity`: names, numbers, dates, codes), the latter
   weighing more: details are what an agent cannot get back otherwise.
3. **Selection**, maximal marginal relevance: repeatedly the candidate of
   the highest relevance less its similarity to the closest one already
   kept, among those that still fit in `max_chars`; one nearly identical
   to a kept one or to one of a later turn (`DUPLICATE_SIMILARITY`) is
   dropped, so a repeated fact appears once, in its latest wording (a
   changed code or date replaces the old one).
4. **Output**: the kept units in their chronological order, one a line.

Deterministic: scores are rounded before they are compared and ties go to
the older candidate. Step 1 is linear in the turns' length and runs in a
worker thread, so that a fold in `memrpc serve` does not hold its event
loop; the model runs in the embedder's thread.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from memrpc import limits as lim
from memrpc.embedding import Embedder
from memrpc.summaries.base import FoldTurn
from memrpc.summaries.salience import salience
from memrpc.summaries.sentences import cut, pieces, sentences

# Relevance = CENTRALITY_WEIGHT * centrality + (1 - CENTRALITY_WEIGHT) * specificity.
CENTRALITY_WEIGHT = 0.3
# How much a candidate's similarity to the closest kept unit counts against it.
REDUNDANCY_WEIGHT = 0.5
# Cosine similarity from which a candidate repeats a kept unit.
DUPLICATE_SIMILARITY = 0.9
# Decimals kept of every score, so that last-bit differences decide nothing.
_DECIMALS = 6
_SEPARATOR = ": "


@dataclass(frozen=True)
class Unit:
    """One line of a summary: who said it and what."""

    role: str
    text: str

    @property
    def line(self) -> str:
        return f"{self.role}{_SEPARATOR}{self.text}" if self.role else self.text

    def within(self, max_chars: int) -> Unit:
        """This unit, its text shortened between words if its line is
        longer than `max_chars`."""
        over = len(self.line) - max_chars
        return self if over <= 0 else Unit(self.role, cut(self.text, len(self.text) - over))

    @classmethod
    def parse(cls, line: str) -> Unit:
        """The unit a summary's line holds (one without a role is all text)."""
        role, separator, text = line.partition(_SEPARATOR)
        return cls(role, text) if separator and role and text else cls("", line)


@dataclass(frozen=True)
class Candidate:
    """A unit the fold may keep, with where it comes from."""

    unit: Unit
    # Chronological order among the fold's candidates.
    position: int
    specificity: float
    # Which of the fold's turns it comes from; -1 for the summary so far.
    turn: int


def units(summary: str) -> list[Unit]:
    """The units of a summary, oldest first."""
    return [
        Unit.parse(line) for line in (" ".join(ln.split()) for ln in summary.splitlines()) if line
    ]


def render(kept: Sequence[Unit]) -> str:
    """A summary of `kept`, one unit a line."""
    return "\n".join(unit.line for unit in kept)


def candidates(summary: str, turns: Sequence[FoldTurn], *, max_chars: int) -> list[Candidate]:
    """The fold's candidates, at most `SUMMARY_MAX_CANDIDATES`, in
    chronological order (see the module's docstring)."""
    made = itertools.count()

    def candidates_of(found: Iterable[Unit], turn: int) -> list[Candidate]:
        """Those of `found` that are not trivia, shortened to the budget."""
        kept = []
        for unit in (u.within(max_chars) for u in found):
            weighed = salience(unit.text)
            if not weighed.trivia:
                kept.append(Candidate(unit, next(made), weighed.specificity, turn))
        return kept

    old = candidates_of(units(summary), -1)
    new: list[tuple[int, Candidate]] = []  # each with its rank in its turn
    for number, turn in enumerate(turns):
        role = " ".join(turn.role.split())
        mine = candidates_of(
            (
                Unit(role, piece)
                for sentence in sentences(turn.content)
                for piece in pieces(sentence, lim.SUMMARY_MAX_UNIT_CHARS)
            ),
            number,
        )
        new.extend(enumerate(sorted(mine, key=_most_specific_first)))
    room = lim.SUMMARY_MAX_CANDIDATES - lim.SUMMARY_MAX_NEW_CANDIDATES
    kept = sorted(old, key=_most_specific_first)[:room]
    by_round = sorted(new, key=lambda rc: (rc[0], *_most_specific_first(rc[1])))
    kept += [c for _, c in by_round[: lim.SUMMARY_MAX_NEW_CANDIDATES]]
    return sorted(kept, key=lambda c: c.position)


def _most_specific_first(c: Candidate) -> tuple[float, int]:
    """The order of candidates by specificity, the older first among equals."""
    return (-round(c.specificity, _DECIMALS), c.position)


def select(
    pool: Sequence[Candidate], vectors: npt.NDArray[np.float32], *, max_chars: int
) -> list[Candidate]:
    """The candidates kept, in chronological order: maximal marginal
    relevance within `max_chars` (see the module's docstring)."""
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    centrality = vectors @ centroid
    relevance = [
        CENTRALITY_WEIGHT * float(centrality[i]) + (1 - CENTRALITY_WEIGHT) * c.specificity
        for i, c in enumerate(pool)
    ]
    similarity = vectors @ vectors.T
    closest = np.full(len(pool), -1.0)  # similarity to the closest kept unit
    # A unit that a later turn repeats gives way to it: the latest wording
    # of a fact (a changed code, a moved date) is the one kept.
    open_ = {
        i
        for i, c in enumerate(pool)
        if not any(
            later.turn > c.turn
            and round(float(similarity[i, j]), _DECIMALS) >= DUPLICATE_SIMILARITY
            for j, later in enumerate(pool)
        )
    }
    kept: list[int] = []
    used = -1  # characters of the kept lines and the line breaks between them
    while open_:
        fitting = [i for i in open_ if used + 1 + len(pool[i].unit.line) <= max_chars]
        if not fitting:
            break
        best = max(
            fitting,
            key=lambda i: (
                round(relevance[i] - REDUNDANCY_WEIGHT * max(float(closest[i]), 0.0), _DECIMALS),
                -i,
            ),
        )
        kept.append(best)
        used += 1 + len(pool[best].unit.line)
        open_.discard(best)
        closest = np.maximum(closest, similarity[best])
        open_ -= {i for i in open_ if round(float(closest[i]), _DECIMALS) >= DUPLICATE_SIMILARITY}
    return [pool[i] for i in sorted(kept)]


class ExtractiveSummarizer:
    """The default `Summarizer`: the most central, most specific and least
    redundant sentences, by the server's embedding model."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder

    @property
    def name(self) -> str:
        return "extractive"

    async def fold(self, summary: str, turns: Sequence[FoldTurn], *, max_chars: int) -> str:
        """`summary` with `turns` folded in, in at most `max_chars`
        characters. Raises `EmbeddingQueueFull` when the embedder refuses
        the fold's texts (a fold is one call: retry it later, whole); the
        jobs give it the embedder's background lane, which never does."""
        if not turns:
            return summary
        # Reading the turns is linear in their length (~0.7 ms per 1,000
        # characters): off the event loop, which serves calls meanwhile.
        pool = await asyncio.to_thread(candidates, summary, turns, max_chars=max_chars)
        if not pool:
            return ""
        vectors = await self._embedder.embed([c.unit.text for c in pool])
        return render([c.unit for c in select(pool, vectors, max_chars=max_chars)])
