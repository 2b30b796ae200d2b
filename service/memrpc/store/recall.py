"""How a search finds memories in each recall mode (`RecallMode`): the
keyword search it sends beside the vector one (`long_term.search_command`),
and how their replies become matches, ranked by score (`find`).

| mode    | sends                                   | a match's score                  |
|---------|-----------------------------------------|----------------------------------|
| vector  | the KNN search, `limit` nearest         | 1 - distance                     |
| keyword | the keyword search, `limit` best BM25   | its BM25 score (`keyword_score`) |
| hybrid  | both, pipelined: the KNN search and     | (1 - distance) + weight * BM25 / |
|         | the keyword search of                   | the best BM25 of the candidates  |
|         | `HYBRID_CANDIDATES_PER_MATCH` * `limit`;|                                  |
|         | then the distances of the keyword       |                                  |
|         | candidates the KNN search did not return|                                  |

The KNN search of hybrid recall needs no more than `limit` memories: a
memory it finds that holds none of the words ranks by 1 - distance alone,
so only the `limit` nearest can make the cut, and every keyword candidate
gets its distance either way.

The keyword search is `filter_query` (namespace, filter, live, not
superseded) and `keywords.body_query`, scored by Redis Search's BM25
(`SCORER`). A KNN search with the words as its pre-filter would give both
in one query, but Redis Search 2.10 neither expands (stems) the words of a
KNN pre-filter nor scores all of them (measured: "budget" finds no
"budgeted", and a text holding two words scores as one). So hybrid recall
sends the two searches pipelined (one round trip), then, for the keyword
candidates the KNN search did not return, a KNN search among the memories
with their texts (the `text` tag, `distance_command`): one more round trip
of about 0.3 ms, where reading their embeddings (`$.embedding`, JSON) cost
about 4 ms of Redis time for 30 candidates (measured).

Before the keyword search, keyword and hybrid recall count, in one
pipelined round trip, the memories of the scope and those holding each
word, and leave out the words too common to tell memories apart
(`telling_words`, `limits.COMMON_WORD_SHARE`): Redis Search counts a
word's documents over the whole index, so a word in every memory of one
namespace (a speaker's name) still scores there as a rare one would.

In hybrid mode a memory found by the KNN search only has a `keyword_score`
of 0, which it may also have when its text holds the words but ranks below
the keyword candidates.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from memrpc.limits import (
    COMMON_WORD_SCOPE,
    COMMON_WORD_SHARE,
    HYBRID_CANDIDATES_PER_MATCH,
    KEYWORD_SEARCH_TIMEOUT_MS,
)
from memrpc.namespace_defaults import RecallMode
from memrpc.store import keys, keywords
from memrpc.store.memory_index import (
    DISTANCE,
    INDEX,
    MEMORY_PATHS,
    MemoryFilter,
    filter_query,
    knn,
)
from memrpc.store.redis_mux import Arg

# Redis Search's Okapi BM25 (2.10 scores TF-IDF unless told).
SCORER = "BM25STD"
# The text's tag, which the keyword search of hybrid recall also returns.
TEXT_TAG_PATH = "$.tags.text"
MEMORY_FIELD = MEMORY_PATHS[0].encode()
_TEXT_TAG_FIELD = TEXT_TAG_PATH.encode()
_DISTANCE_FIELD = DISTANCE.encode()
# Distances up to this are float32 rounding of 0.
_ROUNDING = 1e-6

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Recall:
    """What a search looks for, and how: `vector` (vector and hybrid modes)
    and `words` (`keywords.words` of the text; keyword and hybrid modes),
    at most `limit` matches, vector matches within `max_distance`, the
    keyword score weighing `keyword_weight` in hybrid mode."""

    mode: RecallMode
    limit: int
    max_distance: float
    keyword_weight: float = 0.0
    vector: Vector | None = None
    words: tuple[str, ...] = ()

    @property
    def keyword_candidates(self) -> int:
        """How many matches the keyword search asks Redis for."""
        if self.mode is RecallMode.HYBRID:
            return self.limit * HYBRID_CANDIDATES_PER_MATCH
        return self.limit

    @property
    def by_vector(self) -> bool:
        """Whether the mode sends the KNN search."""
        return self.mode is not RecallMode.KEYWORD

    @property
    def by_words(self) -> bool:
        """Whether the mode sends the keyword search: not when the text has
        no word to look for (only stop words), which finds nothing."""
        return self.mode is not RecallMode.VECTOR and bool(self.words)


@dataclass(frozen=True)
class Hit:
    """A memory a search found: its key, its `$.memory` JSON (a list of
    one), its distance, keyword score and score."""

    key: bytes
    document: bytes
    distance: float
    keyword_score: float = 0.0
    score: float = 0.0
    # Its `text` tag (`memory_index.text_hash`), read by hybrid recall.
    text_tag: str = ""


def keyword_command(ns: str, now_ms: int, flt: MemoryFilter, recall: Recall) -> list[Arg]:
    """The `FT.SEARCH` of the `recall.keyword_candidates` memories of `ns` that
    `flt` keeps whose text holds the most of `recall.words`, best BM25
    first, each with its `$.memory` (and its text's tag in hybrid mode),
    within `KEYWORD_SEARCH_TIMEOUT_MS` of Redis time."""
    paths = [*MEMORY_PATHS]
    if recall.mode is RecallMode.HYBRID:
        paths.append(TEXT_TAG_PATH)
    query = f"{filter_query(ns, now_ms, flt)} {keywords.body_query(recall.words)}"
    return [
        "FT.SEARCH", INDEX, query,
        "SCORER", SCORER, "WITHSCORES",
        "RETURN", len(paths), *paths,
        "LIMIT", 0, recall.keyword_candidates,
        "TIMEOUT", KEYWORD_SEARCH_TIMEOUT_MS,
        "DIALECT", 3,
    ]  # fmt: skip


def count_command(ns: str, now_ms: int, flt: MemoryFilter, word: str | None) -> list[Arg]:
    """The `FT.SEARCH` that counts the memories of `ns` that `flt` keeps
    (that hold `word`, a `keywords.words` word, when given), within
    `KEYWORD_SEARCH_TIMEOUT_MS` of Redis time."""
    query = filter_query(ns, now_ms, flt)
    if word is not None:
        query += f" @body:{word}"
    return [
        "FT.SEARCH", INDEX, query, "LIMIT", 0, 0,
        "TIMEOUT", KEYWORD_SEARCH_TIMEOUT_MS, "DIALECT", 3,
    ]  # fmt: skip


async def telling_words(
    execute: Callable[..., Awaitable[Any]],
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    found: tuple[str, ...],
) -> tuple[str, ...]:
    """`found` (words of a query) without those more than
    `COMMON_WORD_SHARE` of the memories of `ns` that `flt` keeps hold, when
    they are at least `COMMON_WORD_SCOPE`; all of `found` when every word is
    that common. The counts are one pipelined round trip."""
    commands = [count_command(ns, now_ms, flt, word) for word in (None, *found)]
    replies = await asyncio.gather(*(execute(*command) for command in commands))
    total, *held = [int(reply[0]) for reply in replies]
    if total < COMMON_WORD_SCOPE:
        return found
    kept = tuple(
        word for word, n in zip(found, held, strict=True) if n <= COMMON_WORD_SHARE * total
    )
    return kept or found


def nearest(reply: Sequence[Any], prefix: bytes, max_distance: float) -> list[Hit]:
    """The hits of a KNN search's reply within `max_distance`, nearest first,
    scored 1 - distance."""
    hits = []
    for key, fields in zip(reply[1::2], reply[2::2], strict=True):
        values = _values(fields)
        distance = snapped(float(values[_DISTANCE_FIELD]))
        # A document can vanish between the match and the load of its fields.
        if key.startswith(prefix) and distance <= max_distance and MEMORY_FIELD in values:
            hits.append(Hit(key, values[MEMORY_FIELD], distance, score=1.0 - distance))
    return hits


def by_words(reply: Sequence[Any], prefix: bytes) -> list[Hit]:
    """The hits of a keyword search's reply (`WITHSCORES`), best first, at
    distance 0 and scored by BM25 (hybrid recall finds their distances)."""
    hits = []
    for key, score, fields in zip(reply[1::3], reply[2::3], reply[3::3], strict=True):
        values = _values(fields)
        if key.startswith(prefix) and MEMORY_FIELD in values:
            tag = values.get(_TEXT_TAG_FIELD)
            text_tag = "" if tag is None else json.loads(tag)[0]
            bm25 = float(score)
            hits.append(Hit(key, values[MEMORY_FIELD], 0.0, bm25, bm25, text_tag))
    return hits


def distance_command(
    ns: str, now_ms: int, flt: MemoryFilter, vector: bytes, hits: Sequence[Hit]
) -> list[Arg]:
    """The KNN search that gives the distances of `hits` from `vector` (a
    query blob): among the memories `flt` keeps whose text is one of
    theirs. Twice as many neighbours as hits, for other memories of the
    same texts (a hit that more of them crowd out is left out)."""
    tags = " | ".join(sorted({hit.text_tag for hit in hits}))
    count = 2 * len(hits)
    return [
        "FT.SEARCH", INDEX, knn(f"{filter_query(ns, now_ms, flt)} @text:{{{tags}}}", count),
        "PARAMS", 2, "v", vector,
        "RETURN", 1, DISTANCE,
        "LIMIT", 0, count,
        "DIALECT", 3,
    ]  # fmt: skip


def distances(reply: Sequence[Any]) -> dict[bytes, float]:
    """The distance of each memory (by key) of a `distance_command` reply."""
    return {
        key: snapped(float(_values(fields)[_DISTANCE_FIELD]))
        for key, fields in zip(reply[1::2], reply[2::2], strict=True)
    }


def fuse(
    recall: Recall, near: Sequence[Hit], worded: Sequence[Hit], far: Mapping[bytes, float]
) -> list[Hit]:
    """The best `recall.limit` of the hits of hybrid recall's two searches,
    each once, scored (1 - distance) + weight * keyword score / the best
    keyword score, best first. A keyword hit's distance is its KNN hit's,
    else its distance in `far`; without either it is left out."""
    best = max((hit.keyword_score for hit in worded), default=0.0)
    weight = recall.keyword_weight / best if best > 0 else 0.0
    scores = {hit.key: hit.keyword_score for hit in worded}
    hits = {hit.key: replace(hit, distance=far[hit.key]) for hit in worded if hit.key in far}
    hits.update((hit.key, replace(hit, keyword_score=scores.get(hit.key, 0.0))) for hit in near)
    fused = [
        replace(hit, score=1.0 - hit.distance + weight * hit.keyword_score) for hit in hits.values()
    ]
    return ranked(fused, recall.limit)


async def find(
    execute: Callable[..., Awaitable[Any]],
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    recall: Recall,
    *,
    knn_search: tuple[Sequence[Arg], bytes] | None,
) -> list[Hit]:
    """The best `recall.limit` memories of `ns` among those `flt` keeps, as
    `recall.mode` finds them, best first, with `execute` (one Redis command;
    `knn_search`: when the mode sends it, the KNN search of `recall.limit`
    and its query vector's blob): one search, or in
    hybrid mode two pipelined, then the distances of the keyword
    candidates the KNN search did not return; the keyword search after
    the counts of `telling_words`."""
    prefix = keys.memory(ns, "").encode()
    if recall.by_words:
        recall = replace(recall, words=await telling_words(execute, ns, now_ms, flt, recall.words))
    words = keyword_command(ns, now_ms, flt, recall) if recall.by_words else None
    if knn_search is None:
        return ranked(by_words(await execute(*words), prefix), recall.limit) if words else []
    knn_command, vector = knn_search
    if words is None:
        near = nearest(await execute(*knn_command), prefix, recall.max_distance)
        return ranked(near, recall.limit)
    knn_reply, words_reply = await asyncio.gather(execute(*knn_command), execute(*words))
    worded = by_words(words_reply, prefix)
    placed = {hit.key: hit.distance for hit in nearest(knn_reply, prefix, math.inf)}
    unplaced = [hit for hit in worded if hit.key not in placed]
    far: dict[bytes, float] = {}
    if unplaced:
        far = distances(await execute(*distance_command(ns, now_ms, flt, vector, unplaced)))
    far.update(placed)
    return fuse(recall, nearest(knn_reply, prefix, recall.max_distance), worded, far)


def ranked(hits: Sequence[Hit], limit: int) -> list[Hit]:
    """The best `limit` of `hits`, best first (ties: the nearest first)."""
    return sorted(hits, key=lambda hit: (-hit.score, hit.distance))[:limit]


def _values(fields: Sequence[Any]) -> dict[bytes, Any]:
    return dict(zip(fields[::2], fields[1::2], strict=True))


def snapped(value: float) -> float:
    """A distance, with float32 rounding (up to ~1e-7 either way for a
    vector and itself) snapped to 0."""
    return value if value > _ROUNDING else 0.0
