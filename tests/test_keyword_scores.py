"""How the server scores keyword matches (`store/keyword_scores.py`): BM25
with the namespace's word counts, stemmed terms, common words left out."""

from __future__ import annotations

import math

import pytest

from memrpc.limits import BM25_B, BM25_K1, COMMON_WORD_SCOPE
from memrpc.store.keyword_scores import WordCounts, bm25
from memrpc.store.keywords import stem, terms


def test_terms_are_stemmed_words_without_stop_words() -> None:
    assert terms("We budgeted for the catering; Catering is booked!") == [
        "budget",
        "cater",
        "cater",
        "book",
    ]
    assert stem("running") == "run"


def test_bm25_follows_the_formula_with_the_counts_given() -> None:
    counts = WordCounts(total=100, held={"catering": 4, "budget": 20})
    texts = ["We budgeted for catering.", "Catering, catering and more catering.", "Nothing."]
    scores = bm25(counts, ("catering", "budget"), texts, texts)
    lengths = [len(terms(t)) for t in texts]
    mean = sum(lengths) / len(lengths)

    def part(word: str, tf: int, length: int) -> float:
        held = counts.held[word]
        idf = math.log(1 + (100 - held + 0.5) / (held + 0.5))
        return idf * tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * length / mean))

    assert lengths == [2, 3, 1]  # "we", "for", "and", "more": stop words
    assert scores[0] == pytest.approx(part("catering", 1, 2) + part("budget", 1, 2))
    assert scores[1] == pytest.approx(part("catering", 3, 3))
    assert scores[2] == 0
    # A rarer word weighs more.
    rarer = WordCounts(100, {"catering": 1, "budget": 90})
    rare = bm25(rarer, ("catering", "budget"), texts, texts)
    assert rare[1] > scores[1]


def test_words_too_common_in_a_large_enough_scope_are_left_out() -> None:
    total = COMMON_WORD_SCOPE
    counts = WordCounts(total, {"ann": total, "greyhound": 2})
    assert counts.telling() == ("greyhound",)
    assert WordCounts(total, {"ann": total}).telling() == ("ann",)
    assert WordCounts(total - 1, {"ann": total - 1, "dog": 1}).telling() == ("ann", "dog")
