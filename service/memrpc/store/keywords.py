"""The words of a query text that keyword recall looks for, the Redis
Search query part that finds them, and the stemmed terms the server scores
them by (`store/keyword_scores.py`).

A query text becomes words in Python, never parsed as query syntax: runs of
letters and digits (any script), lower-cased, without the `STOP_WORDS`,
each once, the first `MAX_KEYWORDS`. Such a word needs no escaping in a
query: query syntax is made of punctuation, which no word holds. Redis
Search then matches them against the `body` field stemmed (English), as it
indexed the texts; the server stems them with the same Snowball English
stemmer (`stem`) to score the memories found.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

import snowballstemmer

from memrpc.limits import MAX_KEYWORDS, STEM_CACHE_WORDS

# A word: letters and digits only (`_` is a word character to `re`, not here).
_WORD = re.compile(r"[^\W_]+")
# Common English words that say nothing of what to recall: articles,
# pronouns, auxiliaries, prepositions, question words. A superset of Redis
# Search's default stop words, which it drops from queries itself.
_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom whose why will with would you
    your yours yourself yourselves
    ll re ve don doesn didn isn aren wasn weren won wouldn shouldn couldn haven hasn hadn
    tell know remember recall please much many also get got let us
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


_STEMMER = snowballstemmer.stemmer("english")


def _telling(text: str) -> list[str]:
    """The words of `text`, lower-cased, without stop words and single
    letters, in order, repeats kept."""
    return [
        word
        for word in _WORD.findall(text.lower())
        if word not in STOP_WORDS and (len(word) > 1 or word.isdigit())
    ]


def words(text: str) -> tuple[str, ...]:
    """The words of `text` keyword recall looks for: lower-cased, stop words
    and single letters left out, each once, at most `MAX_KEYWORDS`, in the
    order they first appear."""
    found: dict[str, None] = {}
    for word in _telling(text):
        found[word] = None
        if len(found) == MAX_KEYWORDS:
            break
    return tuple(found)


@functools.lru_cache(maxsize=STEM_CACHE_WORDS)
def stem(word: str) -> str:
    """The Snowball English stem of `word` (a `words` word), as Redis Search
    stems the texts it indexes."""
    stemmed: str = _STEMMER.stemWord(word)
    return stemmed


def terms(text: str) -> list[str]:
    """The stemmed words of a memory's text that keyword scoring counts: its
    words as `words` finds them, every occurrence."""
    return [stem(word) for word in _telling(text)]


def without(text: str, left_out: Iterable[str]) -> str:
    """`text` with every occurrence of the `left_out` words (`words` of it)
    removed: what hybrid recall embeds once it leaves common words out."""
    gone = frozenset(left_out)
    if not gone:
        return text
    return _WORD.sub(lambda match: "" if match.group().lower() in gone else match.group(), text)


def body_query(found: tuple[str, ...]) -> str:
    """The query part that keeps the memories whose text holds any of
    `found` (`words` of a text, not empty) and scores each word it holds.

    The union (`@body:(a | b)`) selects; then each word again, optional
    (`~@body:a`), adds its own score. Redis Search 2.10 scores a union
    inside an intersection (the namespace and filter's) by its first
    matching word only, so without them a text holding every word would
    rank no higher than one holding one (measured)."""
    if not found:
        raise ValueError("no words to look for")
    optional = " ".join(f"~@body:{word}" for word in found)
    return f"@body:({' | '.join(found)}) {optional}"
