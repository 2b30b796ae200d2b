"""How a search finds memories in each recall mode (`RecallMode`): the
keyword search it sends beside the vector one (`long_term.search_command`),
and how their replies become matches, ranked by score.

| mode    | sends                                   | a match's score                  |
|---------|-----------------------------------------|----------------------------------|
| vector  | the KNN search, `limit` nearest         | 1 - distance                     |
| keyword | the keyword search, `limit` best BM25   | its BM25 score (`keyword_score`) |
| hybrid  | both, `HYBRID_CANDIDATES_PER_MATCH` *   | (1 - distance) + weight * BM25 / |
|         | `limit` each, pipelined (one round trip)| the best BM25 of the candidates  |

The keyword search is `filter_query` (namespace, filter, live, not
superseded) and `keywords.body_query`, scored by Redis Search's BM25
(`SCORER`). A KNN search with the words as its pre-filter would give both
in one query, but Redis Search 2.10 neither expands (stems) the words of a
KNN pre-filter nor scores all of them (measured: "budget" finds no
"budgeted", and a text holding two words scores as one), so hybrid recall
sends the two searches, and the keyword search returns each match's
embedding (`$.embedding`) for its distance to be computed here.

In hybrid mode a memory found by both searches keeps the distance of the
KNN search; one found by the KNN search only has a `keyword_score` of 0,
which it may also have when its text holds the words but ranks below the
keyword candidates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from memrpc.limits import HYBRID_CANDIDATES_PER_MATCH
from memrpc.namespace_defaults import RecallMode
from memrpc.store import keywords
from memrpc.store.memory_index import DISTANCE, INDEX, MEMORY_PATHS, MemoryFilter, filter_query
from memrpc.store.redis_mux import Arg

# Redis Search's Okapi BM25 (2.10 scores TF-IDF unless told).
SCORER = "BM25STD"
# The embedding, which the keyword search of hybrid recall also returns.
EMBEDDING_PATH = "$.embedding"
MEMORY_FIELD = MEMORY_PATHS[0].encode()
_EMBEDDING_FIELD = EMBEDDING_PATH.encode()
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
    def candidates(self) -> int:
        """How many matches each search of the mode asks Redis for."""
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


def keyword_command(ns: str, now_ms: int, flt: MemoryFilter, recall: Recall) -> list[Arg]:
    """The `FT.SEARCH` of the `recall.candidates` memories of `ns` that
    `flt` keeps whose text holds the most of `recall.words`, best BM25
    first, each with its `$.memory` (and its embedding in hybrid mode)."""
    paths = [*MEMORY_PATHS]
    if recall.mode is RecallMode.HYBRID:
        paths.append(EMBEDDING_PATH)
    query = f"{filter_query(ns, now_ms, flt)} {keywords.body_query(recall.words)}"
    return [
        "FT.SEARCH", INDEX, query,
        "SCORER", SCORER, "WITHSCORES",
        "RETURN", len(paths), *paths,
        "LIMIT", 0, recall.candidates,
        "DIALECT", 3,
    ]  # fmt: skip


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


def by_words(reply: Sequence[Any], prefix: bytes, vector: Vector | None) -> list[Hit]:
    """The hits of a keyword search's reply (`WITHSCORES`), best first: at
    distance 0 and scored by BM25 without `vector` (keyword mode), else at
    their distance from it (hybrid mode; scored by `fuse`)."""
    found: list[tuple[bytes, float, dict[bytes, Any]]] = []
    for key, score, fields in zip(reply[1::3], reply[2::3], reply[3::3], strict=True):
        values = _values(fields)
        if key.startswith(prefix) and MEMORY_FIELD in values:
            found.append((key, float(score), values))
    if vector is None:
        return [Hit(key, v[MEMORY_FIELD], 0.0, bm25, bm25) for key, bm25, v in found]
    distances = _distances([v[_EMBEDDING_FIELD] for _, _, v in found], vector)
    return [
        Hit(key, v[MEMORY_FIELD], distance, bm25)
        for (key, bm25, v), distance in zip(found, distances, strict=True)
    ]


def fuse(recall: Recall, near: Sequence[Hit], worded: Sequence[Hit]) -> list[Hit]:
    """The best `recall.limit` of the hits of hybrid recall's two searches,
    each once, scored (1 - distance) + weight * keyword score / the best
    keyword score, best first."""
    best = max((hit.keyword_score for hit in worded), default=0.0)
    scores = {hit.key: hit.keyword_score for hit in worded}
    hits = {hit.key: hit for hit in worded}
    hits.update((hit.key, replace(hit, keyword_score=scores.get(hit.key, 0.0))) for hit in near)
    weight = recall.keyword_weight / best if best > 0 else 0.0
    fused = [
        replace(hit, score=1.0 - hit.distance + weight * hit.keyword_score) for hit in hits.values()
    ]
    return ranked(fused, recall.limit)


def ranked(hits: Sequence[Hit], limit: int) -> list[Hit]:
    """The best `limit` of `hits`, best first (ties: the nearest first)."""
    return sorted(hits, key=lambda hit: (-hit.score, hit.distance))[:limit]


def _values(fields: Sequence[Any]) -> dict[bytes, Any]:
    return dict(zip(fields[::2], fields[1::2], strict=True))


def _distances(embeddings: Sequence[bytes], vector: Vector) -> list[float]:
    """The cosine distances of stored embeddings (each the JSON of a list of
    one array, as a search returns it) from `vector`."""
    if not embeddings:
        return []
    rows = np.asarray(json.loads(b"[" + b",".join(embeddings) + b"]"), dtype=np.float64)[:, 0]
    query = np.asarray(vector, dtype=np.float64)
    norms = np.linalg.norm(rows, axis=1) * np.linalg.norm(query)
    similarity = rows @ query / np.where(norms > 0, norms, 1.0)
    return [snapped(1.0 - value) for value in similarity.tolist()]


def snapped(value: float) -> float:
    """A distance, with float32 rounding (up to ~1e-7 either way for a
    vector and itself) snapped to 0."""
    return value if value > _ROUNDING else 0.0
