"""How a search finds memories in each recall mode (`RecallMode`): the
keyword search it sends beside the vector one (`long_term.search_command`),
and how their replies become matches, ranked by score (`find`).

| mode    | sends                                   | a match's score                  |
|---------|-----------------------------------------|----------------------------------|
| vector  | the KNN search, `limit` nearest         | 1 - distance                     |
| keyword | the keyword search, the 3 *             | its BM25 score (`keyword_score`) |
|         | `limit` best by Redis Search's BM25     | as the server scores it          |
| hybrid  | the keyword search while the query is   | (1 - distance) + weight * BM25 / |
|         | embedded, then the KNN search and the   | the best BM25 of the candidates, |
|         | distances of the keyword candidates,    | + time weight when in the time   |
|         | pipelined; 3 * `limit` of each          | the query names, + neighbours'   |

Before the searches, keyword and hybrid recall count, in one pipelined
round trip, the memories of the scope and those holding each word of the
query (`count_words`): the words too common to tell memories apart are
left out (`WordCounts.telling`; hybrid recall embeds the query without
them too, `api/memory_search.py`), and the others' counts weigh them in
the server's BM25 (`store/keyword_scores.py`), which scores every
candidate by its text: Redis Search's own BM25 (`SCORER`) only picks the
keyword candidates, as its word counts span every namespace of the index.

The keyword search is `filter_query` (namespace, filter, live, not
superseded) and `keywords.body_query`. A KNN search with the words as its
pre-filter would give both in one query, but Redis Search 2.10 neither
expands (stems) the words of a KNN pre-filter nor scores all of them
(measured: "budget" finds no "budgeted", and a text holding two words
scores as one). So hybrid recall sends the keyword search as soon as it
has the words, while the server embeds the query; then the KNN search and,
pipelined with it, the distances of the keyword candidates: a KNN search
among the memories with their texts (their `text` hashes, `distance_command`),
where reading their embeddings cost about 4 ms of Redis time for 30
candidates (measured on schema 2's JSON documents).

Time: when the query names a time (`named_times.named_time`: "on 16
November, 2023", "in August 2023", "in June", "in 2023"), a hybrid
candidate whose event time falls in it gains `time_weight`.

Neighbours: memories written one after the other in a thread (field `q`, the
namespace's order of writing, `lua/lib/memory.lua`) are often about the
same thing, one the question, the other its answer. In hybrid mode a
candidate gains `neighbor_weight` times the best score (as fused above) of
the candidates of its thread one apart, and `NEIGHBOR_DECAY` times that of
those two apart (up to `NEIGHBOR_SPAN`). A match is a candidate within
`max_distance`, or whose text holds a query word, or (with a neighbour
weight above 0) written next to such a one and scoring, with its
neighbours' part, at least 1 - `max_distance` (as a memory at
`max_distance` scores by itself): a query that neither comes near nor
shares a word with any memory finds none.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from memrpc.limits import (
    HYBRID_CANDIDATES_PER_MATCH,
    KEYWORD_SEARCH_TIMEOUT_MS,
    NEIGHBOR_DECAY,
    NEIGHBOR_SPAN,
)
from memrpc.namespace_defaults import RecallMode
from memrpc.store import keys, keywords, memory_document
from memrpc.store.keyword_scores import NO_COUNTS, WordCounts, bm25
from memrpc.store.memory_document import READ_FIELDS
from memrpc.store.memory_index import (
    DISTANCE,
    INDEX,
    ORIGINAL_FIELD,
    MemoryFilter,
    ModelField,
    filter_query,
    knn,
    text_query,
)
from memrpc.store.named_times import NamedTime
from memrpc.store.redis_mux import Arg

# Redis Search's Okapi BM25 (2.10 scores TF-IDF unless told).
SCORER = "BM25STD"
# What the searches of keyword and hybrid recall return of each candidate
# besides `READ_FIELDS` (which hold its text, event time, user and thread)
# to score it: its place in the order of writing, and its text's hash.
CANDIDATE_FIELDS = (memory_document.SEQ, memory_document.TEXT_HASH)
_ID_FIELD = memory_document.ID.encode()
_DISTANCE_FIELD = DISTANCE.encode()
# Distances up to this are float32 rounding of 0.
_ROUNDING = 1e-6

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Recall:
    """What a search looks for, and how: `vector` (vector and hybrid modes)
    and `words` (the query's words that tell memories apart, and their
    `counts`; keyword and hybrid modes), at most `limit` matches, vector
    matches within `max_distance`; in hybrid mode, the keyword score
    weighing `keyword_weight`, the time the query names (`time`)
    `time_weight`, the neighbours `neighbor_weight`."""

    mode: RecallMode
    limit: int
    max_distance: float
    keyword_weight: float = 0.0
    neighbor_weight: float = 0.0
    time_weight: float = 0.0
    vector: Vector | None = None
    words: tuple[str, ...] = ()
    counts: WordCounts = NO_COUNTS
    time: NamedTime | None = None

    @property
    def candidates(self) -> int:
        """How many matches each search of the mode asks Redis for."""
        if self.mode is RecallMode.VECTOR:
            return self.limit
        return self.limit * HYBRID_CANDIDATES_PER_MATCH

    @property
    def paths(self) -> tuple[str, ...]:
        """What the searches return of each match besides its memory (and
        distance): what scores it, but in vector mode."""
        return () if self.mode is RecallMode.VECTOR else CANDIDATE_FIELDS

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
    """A memory a search found: its key, its Hash's fields as returned
    (`READ_FIELDS`, and `CANDIDATE_FIELDS` in keyword and hybrid modes), its
    distance, keyword score and score."""

    key: bytes
    memory: dict[str, str]
    distance: float
    keyword_score: float = 0.0
    score: float = 0.0

    @property
    def text(self) -> str:
        return self.memory[memory_document.TEXT]

    @property
    def text_hash(self) -> int:
        """Its `memory_index.text_hash`, read by hybrid recall."""
        return int(self.memory[memory_document.TEXT_HASH])

    @property
    def event_ms(self) -> int | None:
        """When the remembered thing happened; None: unknown."""
        event = self.memory.get(memory_document.EVENT_MS)
        return None if event is None else int(event)

    @property
    def thread(self) -> tuple[str, str]:
        """Its user and thread, as tags: where its neighbours are."""
        return self.memory[memory_document.USER], self.memory[memory_document.THREAD]

    @property
    def seq(self) -> int | None:
        """Its place in the namespace's order of writing; None for a memory
        written before there was one."""
        seq = self.memory.get(memory_document.SEQ)
        return None if seq is None else int(seq)


def keyword_command(ns: str, now_ms: int, flt: MemoryFilter, recall: Recall) -> list[Arg]:
    """The `FT.SEARCH` of the `recall.candidates` memories of `ns` that
    `flt` keeps whose text holds the most of `recall.words`, best BM25
    first, each with its `READ_FIELDS` and `CANDIDATE_FIELDS`, within
    `KEYWORD_SEARCH_TIMEOUT_MS` of Redis time."""
    paths = [*READ_FIELDS, *recall.paths]
    query = f"{filter_query(ns, now_ms, flt)} {keywords.body_query(recall.words)}"
    return [
        "FT.SEARCH", INDEX, query,
        "SCORER", SCORER, "WITHSCORES",
        "RETURN", len(paths), *paths,
        "LIMIT", 0, recall.candidates,
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


async def count_words(
    execute: Callable[..., Awaitable[Any]],
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    found: tuple[str, ...],
) -> WordCounts:
    """How many memories of `ns` `flt` keeps, and how many of them hold each
    of `found` (words of a query): one pipelined round trip."""
    commands = [count_command(ns, now_ms, flt, word) for word in (None, *found)]
    replies = await asyncio.gather(*(execute(*command) for command in commands))
    total, *held = [int(reply[0]) for reply in replies]
    return WordCounts(total, dict(zip(found, held, strict=True)))


def nearest(reply: Sequence[Any], prefix: bytes, max_distance: float) -> list[Hit]:
    """The hits of a KNN search's reply within `max_distance`, nearest first,
    scored 1 - distance."""
    hits = []
    for key, fields in zip(reply[1::2], reply[2::2], strict=True):
        values = _values(fields)
        distance = snapped(float(values.pop(_DISTANCE_FIELD)))
        # A memory can vanish between the match and the load of its fields.
        if key.startswith(prefix) and distance <= max_distance and _ID_FIELD in values:
            hits.append(Hit(key, _texts(values), distance, 0.0, 1.0 - distance))
    return hits


def by_words(reply: Sequence[Any], prefix: bytes) -> list[Hit]:
    """The hits of a keyword search's reply (`WITHSCORES`), best first, at
    distance 0 and scored by Redis Search's BM25 (which `scored` replaces;
    hybrid recall finds their distances)."""
    hits = []
    for key, score, fields in zip(reply[1::3], reply[2::3], reply[3::3], strict=True):
        values = _values(fields)
        if key.startswith(prefix) and _ID_FIELD in values:
            hits.append(Hit(key, _texts(values), 0.0, float(score), float(score)))
    return hits


def _texts(values: Mapping[bytes, bytes]) -> dict[str, str]:
    """A hit's fields, as text (the vector is never returned)."""
    return {name.decode(): value.decode() for name, value in values.items()}


def distance_command(
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    vector: bytes,
    hits: Sequence[Hit],
    *,
    field: ModelField,
) -> list[Arg]:
    """The KNN search that gives the distances of `hits` from `vector` (a
    query blob) in the vector field `field`: among the memories `flt` keeps whose text is one of
    theirs. Twice as many neighbours as hits, for other memories of the
    same texts (a hit that more of them crowd out is left out)."""
    texts = text_query(hit.text_hash for hit in hits)
    count = 2 * len(hits)
    return [
        "FT.SEARCH", INDEX, knn(f"{filter_query(ns, now_ms, flt)} ({texts})", count, field),
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


def scored(recall: Recall, hits: Sequence[Hit]) -> list[Hit]:
    """`hits` with their `keyword_score` (and `score`, as keyword mode ranks
    them): the server's BM25 of their texts for `recall.words`
    (`keyword_scores.bm25`)."""
    texts = [hit.text for hit in hits]
    found = bm25(recall.counts, recall.words, texts, texts)
    return [
        replace(hit, keyword_score=score, score=score)
        for hit, score in zip(hits, found, strict=True)
    ]


def fuse(
    recall: Recall, near: Sequence[Hit], worded: Sequence[Hit], far: Mapping[bytes, float]
) -> list[Hit]:
    """The best `recall.limit` of the hits of hybrid recall's two searches
    (`near`: the KNN search's at any distance), each once, scored (1 -
    distance) + weight * keyword score / the best keyword score, plus the
    time weight when in the time the query names, plus their neighbours'
    part (`neighbored`), best first. A keyword hit's distance is its KNN
    hit's, else its distance in `far`; without either it is left out."""
    hits = {hit.key: replace(hit, distance=far[hit.key]) for hit in worded if hit.key in far}
    hits.update((hit.key, hit) for hit in near)
    candidates = list(hits.values())
    keyword = (
        bm25(
            recall.counts,
            recall.words,
            [hit.text for hit in candidates],
            [hit.text for hit in worded],
        )
        if recall.words
        else [0.0] * len(candidates)
    )
    best = max(keyword, default=0.0)
    weight = recall.keyword_weight / best if best > 0 else 0.0
    fused = [
        1.0 - hit.distance + weight * score + _timely(recall, hit)
        for hit, score in zip(candidates, keyword, strict=True)
    ]
    return ranked(neighbored(recall, candidates, keyword, fused), recall.limit)


def _timely(recall: Recall, hit: Hit) -> float:
    """The time weight, when `hit`'s event time is in the time the query
    names; else 0."""
    if recall.time is None or hit.event_ms is None or not recall.time.holds(hit.event_ms):
        return 0.0
    return recall.time_weight


def neighbored(
    recall: Recall, hits: Sequence[Hit], keyword: Sequence[float], fused: Sequence[float]
) -> list[Hit]:
    """The matches among `hits` (the candidates, with their keyword and
    `fused` scores): those within `recall.max_distance` or holding a query
    word, and (with a neighbour weight) those written next to one whose
    score, neighbours' part included, reaches 1 - `max_distance` (what a
    memory at `max_distance` scores by itself); each
    with its keyword score, and its score raised by
    `recall.neighbor_weight` times the best (positive) fused score of the
    hits of its thread one apart, `NEIGHBOR_DECAY` times that of those two
    apart, up to `NEIGHBOR_SPAN` apart."""
    qualified = [
        hit.distance <= recall.max_distance or score > 0
        for hit, score in zip(hits, keyword, strict=True)
    ]
    placed = {(hit.thread, hit.seq): n for n, hit in enumerate(hits) if hit.seq is not None}
    found = []
    for n, hit in enumerate(hits):
        lift, beside = 0.0, False
        if hit.seq is not None:
            for apart in range(1, NEIGHBOR_SPAN + 1):
                around = [
                    placed[place]
                    for step in (-apart, apart)
                    if (place := (hit.thread, hit.seq + step)) in placed
                ]
                if around:
                    lift += NEIGHBOR_DECAY ** (apart - 1) * max(0.0, *(fused[m] for m in around))
                    beside = beside or any(qualified[m] for m in around)
        score = fused[n] + recall.neighbor_weight * lift
        if qualified[n] or (
            beside and recall.neighbor_weight > 0 and score >= 1 - recall.max_distance
        ):
            found.append(replace(hit, keyword_score=keyword[n], score=score))
    return found


# The KNN search of a query vector, and the vector's blob (`LongTermStore.recall`).
KnnSearch = Callable[[Vector], tuple[Sequence[Arg], bytes]]


async def find(
    execute: Callable[..., Awaitable[Any]],
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    recall: Recall,
    *,
    knn_search: KnnSearch | None,
    embedding: Awaitable[Vector] | None = None,
    field: ModelField = ORIGINAL_FIELD,
) -> list[Hit]:
    """The best `recall.limit` memories of `ns` among those `flt` keeps, as
    `recall.mode` finds them, best first, with `execute` (one Redis command;
    `knn_search`: when the mode sends it, the KNN search of
    `recall.candidates` nearest to a vector: `recall.vector`, else the
    `embedding` being computed, of the vector field `field`). Vector and
    keyword modes send one search.
    Hybrid mode sends the keyword search while the query is embedded, then
    the KNN search and the distances of the keyword candidates, pipelined.
    `recall.words` are the telling ones already (`WordCounts.telling`)."""
    prefix = keys.memory(ns, "").encode()
    words = keyword_command(ns, now_ms, flt, recall) if recall.by_words else None
    if knn_search is None:
        if words is None:
            return []
        return ranked(scored(recall, by_words(await execute(*words), prefix)), recall.limit)
    if recall.mode is not RecallMode.HYBRID:
        assert recall.vector is not None
        command, _ = knn_search(recall.vector)
        return ranked(nearest(await execute(*command), prefix, recall.max_distance), recall.limit)
    searching = None if words is None else asyncio.ensure_future(execute(*words))
    try:
        vector = recall.vector
        if vector is None:
            assert embedding is not None
            vector = await embedding
        command, blob = knn_search(vector)
        if searching is None:
            return fuse(recall, nearest(await execute(*command), prefix, math.inf), (), {})
        worded = by_words(await searching, prefix)
    finally:
        if searching is not None and not searching.done():
            searching.cancel()
    far: dict[bytes, float] = {}
    if worded:
        knn_reply, far_reply = await asyncio.gather(
            execute(*command),
            execute(*distance_command(ns, now_ms, flt, blob, worded, field=field)),
        )
        far = distances(far_reply)
    else:
        knn_reply = await execute(*command)
    near = nearest(knn_reply, prefix, math.inf)
    far.update((hit.key, hit.distance) for hit in near)
    return fuse(recall, near, worded, far)


def ranked(hits: Sequence[Hit], limit: int) -> list[Hit]:
    """The best `limit` of `hits`, best first (ties: the nearest first)."""
    return sorted(hits, key=lambda hit: (-hit.score, hit.distance))[:limit]


def _values(fields: Sequence[Any]) -> dict[bytes, Any]:
    return dict(zip(fields[::2], fields[1::2], strict=True))


def snapped(value: float) -> float:
    """A distance, with float32 rounding (up to ~1e-7 either way for a
    vector and itself) snapped to 0."""
    return value if value > _ROUNDING else 0.0
