"""The common words each server process remembers per search scope
(`common_words.py`)."""

from __future__ import annotations

from memrpc.common_words import CommonWords
from memrpc.store.memory_index import MemoryFilter

EVERYONE = MemoryFilter()
ANN = MemoryFilter(user_ids=("ann",))


def test_a_scope_guesses_the_words_its_last_counts_found_common() -> None:
    now = [0.0]
    common = CommonWords(capacity=2, ttl_s=60.0, clock=lambda: now[0])
    assert common.guess("n", EVERYONE, ["ann", "dog"]) == frozenset()
    common.learn("n", EVERYONE, ["ann", "dog"], kept=["dog"])
    assert common.guess("n", EVERYONE, ["ann", "cat"]) == {"ann"}
    # Another filter or namespace is another scope.
    assert common.guess("n", ANN, ["ann"]) == frozenset()
    assert common.guess("m", EVERYONE, ["ann"]) == frozenset()
    # A later count that keeps the word unlearns it; others stay known.
    common.learn("n", EVERYONE, ["bob", "ann"], kept=["ann"])
    assert common.guess("n", EVERYONE, ["ann", "bob"]) == {"bob"}
    # Counts expire.
    now[0] = 61.0
    assert common.guess("n", EVERYONE, ["bob"]) == frozenset()


def test_only_the_last_scopes_are_kept() -> None:
    common = CommonWords(capacity=2)
    for ns in ("a", "b", "c"):
        common.learn(ns, EVERYONE, ["ann"], kept=[])
    assert common.guess("a", EVERYONE, ["ann"]) == frozenset()
    assert common.guess("b", EVERYONE, ["ann"]) == {"ann"}
    assert common.guess("c", EVERYONE, ["ann"]) == {"ann"}
