"""The words lately found too common to tell memories apart in each search
scope (a namespace and a filter; `WordCounts.telling`), kept by each server
process for `COMMON_WORDS_TTL_S`: hybrid recall embeds its query without
the words it expects to leave out while their counts are read again, and
embeds it once more only when the counts disagree (`api/memory_search.py`).
A wrong guess costs an embedding, never a wrong result."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from memrpc.limits import COMMON_WORDS_SCOPES, COMMON_WORDS_TTL_S
from memrpc.store.memory_index import MemoryFilter

Scope = tuple[str, MemoryFilter]


class CommonWords:
    """The common words of the `capacity` scopes searched last, each kept
    `ttl_s` seconds of `clock` after it was counted."""

    def __init__(
        self,
        capacity: int = COMMON_WORDS_SCOPES,
        ttl_s: float = COMMON_WORDS_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._ttl_s = ttl_s
        self._clock = clock
        # Per scope: when its words were counted, and each word counted: common or not.
        self._scopes: OrderedDict[Scope, tuple[float, dict[str, bool]]] = OrderedDict()

    def guess(self, ns: str, flt: MemoryFilter, found: Iterable[str]) -> frozenset[str]:
        """The words of `found` lately counted as common in the scope."""
        entry = self._scopes.get((ns, flt))
        if entry is None or self._clock() - entry[0] > self._ttl_s:
            return frozenset()
        return frozenset(word for word in found if entry[1].get(word, False))

    def learn(self, ns: str, flt: MemoryFilter, found: Iterable[str], kept: Iterable[str]) -> None:
        """Records a count in the scope: the words `found`, of which `kept`
        were not common. The words counted before stay known until the
        scope's entry expires."""
        scope = (ns, flt)
        now = self._clock()
        entry = self._scopes.pop(scope, None)
        words = entry[1] if entry is not None and now - entry[0] <= self._ttl_s else {}
        telling = set(kept)
        words.update((word, word not in telling) for word in found)
        self._scopes[scope] = (now, words)
        while len(self._scopes) > self._capacity:
            self._scopes.popitem(last=False)
