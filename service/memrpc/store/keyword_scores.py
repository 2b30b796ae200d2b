"""How the server scores the memories a keyword or hybrid search found by
the words of its query: Okapi BM25, with each word's document frequency
counted in the namespace (and filter) searched.

Redis Search scores BM25 too, but counts a word's documents over the whole
index, every namespace together, so one tenant's memories would change
another's ranking, and a word every memory of one namespace holds (a
speaker's name in each turn of a conversation) would score there as a
rare one. The server already counts, before the search, the memories of
the scope and those holding each word (one pipelined round trip,
`recall.count_command`): from those counts, `WordCounts` leaves out the
words too common to tell memories apart (`telling`) and gives the others
their inverse document frequency; `bm25` then scores the candidates'
texts (`keywords.terms`), the mean length of the keyword search's
candidates standing for the scope's (so a memory scores the same in
keyword and hybrid mode).
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from memrpc.limits import (
    BM25_B,
    BM25_K1,
    COMMON_WORD_SCOPE,
    COMMON_WORD_SHARE,
    TERMS_CACHE_TEXTS,
)
from memrpc.store import keywords


@dataclass(frozen=True)
class WordCounts:
    """How many memories a search considers (`total`) and how many of them
    hold each word of its query (`held`, by word)."""

    total: int
    held: Mapping[str, int]

    def telling(self) -> tuple[str, ...]:
        """The words (in query order) but those more than
        `COMMON_WORD_SHARE` of the memories hold, when they are at least
        `COMMON_WORD_SCOPE`; all of them when every word is that common."""
        found = tuple(self.held)
        if self.total < COMMON_WORD_SCOPE:
            return found
        kept = tuple(word for word in found if self.held[word] <= COMMON_WORD_SHARE * self.total)
        return kept or found

    def idf(self, word: str) -> float:
        """The inverse document frequency of `word` among the memories
        counted (BM25's, never negative)."""
        held = min(self.held.get(word, 0), self.total)
        return math.log(1.0 + (self.total - held + 0.5) / (held + 0.5))


# The counts of a search without words (vector mode, or a text of stop words).
NO_COUNTS = WordCounts(0, {})


def bm25(
    counts: WordCounts, found: Sequence[str], texts: Sequence[str], typical: Sequence[str]
) -> list[float]:
    """The BM25 score of each of `texts` for the query words `found` (some
    of `counts.held`), their stems matched against the texts' `terms`, a
    text's length compared with the mean of the `typical` texts' (of
    `texts` when none)."""
    weights: dict[str, float] = {}
    for word in found:
        weights.setdefault(keywords.stem(word), counts.idf(word))
    bags = [_bag(text) for text in texts]
    lengths = [sum(bag.values()) for bag in bags]
    typical_lengths = [sum(_bag(text).values()) for text in typical] or lengths
    mean = max(1.0, sum(typical_lengths) / len(typical_lengths)) if typical_lengths else 1.0
    scores = []
    for bag, length in zip(bags, lengths, strict=True):
        norm = BM25_K1 * (1.0 - BM25_B + BM25_B * length / mean)
        scores.append(
            sum(
                weight * held * (BM25_K1 + 1.0) / (held + norm)
                for term, weight in weights.items()
                if (held := bag.get(term, 0))
            )
        )
    return scores


@functools.lru_cache(maxsize=TERMS_CACHE_TEXTS)
def _bag(text: str) -> Mapping[str, int]:
    """How often each term (`keywords.terms`) is in `text`; read-only, as
    cached: the same memories are candidates of many searches."""
    return MappingProxyType(Counter(keywords.terms(text)))
