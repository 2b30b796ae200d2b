"""The search of long-term memories, as `LongTermMemory.SearchMemories` and
`WorkingMemory.GetContext` both do it: their requests share the search
fields (`text` or `vector`, `filter`, `limit`, `max_distance`, `mode`,
`keyword_weight`, `neighbor_weight`, `time_weight`, with the same names
and rules),
checked here once; a query text is split into the words keyword recall
looks for (`store/keywords.py`) and embedded once (not at all in keyword
mode): in vector mode as it is, while the caller reads other things; in
hybrid mode after the count of the words (one round trip), without those
too common in the scope to tell memories apart (`WordCounts.telling`: a
speaker's name in every turn of a conversation pulls the query's vector
towards every turn of that speaker). The time a text names, if any, is
read here too (`store/named_times.py`). The search is one `FT.SEARCH`, two
pipelined in hybrid mode (`LongTermStore.recall`, `store/recall.py`); the
matches a response returns stay within its byte budget (`api/paging.py`),
the best first; the memories it finds are handed to the access recorder
(`access_recorder.py`: a dict update, no Redis).

A default the request leaves out is read here, in one place
(`_max_distance`, `_mode`, `_weight`: the namespace's setting else the
server's, from the namespace's `NamespaceDefaults`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import grpc

from memrpc import metrics
from memrpc.access_recorder import AccessRecorder
from memrpc.api import memory_fields, paging
from memrpc.common_words import CommonWords
from memrpc.embedding import Embedder, EmbeddingQueueFull
from memrpc.limits import (
    DEFAULT_SEARCH_LIMIT,
    KEYWORD_WEIGHT,
    MAX_PAGE_BYTES,
    NEIGHBOR_WEIGHT,
    SEARCH_DISTANCE,
    TIME_WEIGHT,
    Limits,
    Range,
)
from memrpc.models import Choice, Model, ModelMoved, Models
from memrpc.namespace_defaults import NamespaceDefaults, RecallMode
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, retry_info
from memrpc.store import keywords
from memrpc.store.keyword_scores import NO_COUNTS
from memrpc.store.long_term import LongTermStore, Match, OtherVector, Vector
from memrpc.store.memory_index import MemoryFilter
from memrpc.store.named_times import named_time
from memrpc.store.recall import Recall
from memrpc.v1 import long_term_memory_pb2 as ltm_pb
from memrpc.v1 import working_memory_pb2 as wm_pb
from memrpc.v1.error_reason_pb2 import ErrorReason

# The requests that search memories.
SearchRequest = ltm_pb.SearchMemoriesRequest | wm_pb.GetContextRequest


@dataclass(frozen=True)
class Query:
    """A search request's search fields, checked. At most one of `text` (to
    embed) and `vector` (the caller's, unit length) is set; neither when
    the request has no query."""

    filter: MemoryFilter
    limit: int
    max_distance: float
    mode: RecallMode = RecallMode.VECTOR
    keyword_weight: float = KEYWORD_WEIGHT.default
    neighbor_weight: float = NEIGHBOR_WEIGHT.default
    time_weight: float = TIME_WEIGHT.default
    text: str | None = None
    vector: Vector | None = None
    # The namespace's model: its embedder and the vector field searched.
    model: Model | None = None

    @property
    def empty(self) -> bool:
        """True when the request named nothing to look for."""
        return self.text is None and self.vector is None

    def scoped_to(self, user: str) -> MemoryFilter:
        """The filter, with the memories of `user` only unless it names users
        already (or `user` is '': no scope)."""
        if self.filter.user_ids or not user:
            return self.filter
        return dataclasses.replace(self.filter, user_ids=(user,))


def _max_distance(request: SearchRequest, defaults: NamespaceDefaults) -> float:
    """The request's `max_distance`, else the namespace's default."""
    if not request.HasField("max_distance"):
        return defaults.recall_distance
    return validate.distance(request.max_distance, "max_distance", SEARCH_DISTANCE)


def _mode(request: SearchRequest, defaults: NamespaceDefaults) -> RecallMode:
    """The request's `mode`, else the namespace's default. A vector query is
    searched by vector only: a vector query asking for words is refused, and
    one left to a namespace default of another mode gets vector mode."""
    vector_query = request.WhichOneof("query") == "vector"
    if request.mode == ltm_pb.RECALL_MODE_UNSPECIFIED:
        return RecallMode.VECTOR if vector_query else defaults.recall_mode
    mode = memory_fields.recall_mode(request.mode)
    if vector_query and mode is not RecallMode.VECTOR:
        name = ltm_pb.RecallMode.Name(request.mode)
        raise ApiError.invalid("mode", f"{name} needs a text query: send text, or no mode")
    return mode


def _weight(
    request: SearchRequest,
    field: Literal["keyword_weight", "neighbor_weight", "time_weight"],
    default: float,
    limit: Range,
) -> float:
    """The request's weight `field`, else `default` (the namespace's)."""
    if not request.HasField(field):
        return default
    return validate.distance(getattr(request, field), field, limit)


class MemorySearch:
    """Checks search requests against `limits`, embeds texts with each
    namespace's model of `models`, searches `store` and records what it
    finds with `access`."""

    def __init__(
        self, store: LongTermStore, models: Models, limits: Limits, access: AccessRecorder
    ) -> None:
        self._store = store
        self._models = models
        self._limits = limits
        self._access = access
        self._common = CommonWords()
        self._limit = Range(default=DEFAULT_SEARCH_LIMIT, low=1, high=limits.max_search_limit)

    async def choice(self, ns: str, *, writing: bool = False) -> Choice:
        """The model `ns` uses (whose embeddings, and a caller's vectors,
        have its dimension), and the other whose vectors writes also write,
        for a read or (`writing`) a write; `UNAVAILABLE` when this server
        cannot take part in a move of the memories to another model."""
        try:
            return await self._models.choice(ns, writing=writing)
        except ModelMoved as moved:
            raise ApiError(
                grpc.StatusCode.UNAVAILABLE, ErrorReason.ERROR_REASON_MODEL_MOVING, str(moved)
            ) from None

    def parse(self, request: SearchRequest, defaults: NamespaceDefaults, model: Model) -> Query:
        """The checked search fields of `request`, in the order they are
        checked: filter, limit, max_distance, mode, keyword_weight,
        neighbor_weight, time_weight, query;
        what it leaves unset from `defaults` (its namespace's); searched
        with `model` (its namespace's)."""
        query = Query(
            model=model,
            filter=memory_fields.memory_filter(request.filter, "filter"),
            limit=validate.count(request.limit, "limit", self._limit),
            max_distance=_max_distance(request, defaults),
            mode=_mode(request, defaults),
            keyword_weight=_weight(
                request, "keyword_weight", defaults.keyword_weight, KEYWORD_WEIGHT
            ),
            neighbor_weight=_weight(
                request, "neighbor_weight", defaults.neighbor_weight, NEIGHBOR_WEIGHT
            ),
            time_weight=_weight(request, "time_weight", defaults.time_weight, TIME_WEIGHT),
        )
        match request.WhichOneof("query"):
            case "text":
                text = memory_fields.text(request.text, "text", self._limits)
                return dataclasses.replace(query, text=text)
            case "vector":
                values = request.vector.values
                vector = memory_fields.vector(values, "vector.values", model.embedder.dim)
                return dataclasses.replace(query, vector=vector)
        return query

    async def embed(self, texts: Sequence[str], embedder: Embedder) -> Vector:
        """The vectors of `texts` by `embedder`, one row each;
        `RESOURCE_EXHAUSTED` when the embedding queue is full."""
        try:
            return await embedder.embed(texts)
        except EmbeddingQueueFull as full:
            raise ApiError.exhausted(
                ErrorReason.ERROR_REASON_EMBEDDING_QUEUE_FULL,
                f"embedding queue full: {full.waiting} texts waiting",
                full.limit,
                "embed_queue_max",
                "retry after the RetryInfo delay, or send vectors",
                retry_info(full.drain_s),
            ) from None

    async def write_vectors(
        self, choice: Choice, texts: Sequence[str]
    ) -> tuple[Vector, list[OtherVector | None]]:
        """What a text write stores (`Choice.write_vectors`), embedded as
        `embed` does."""
        return await choice.write_vectors(texts, self.embed)

    async def _embed_one(self, text: str, embedder: Embedder) -> Vector:
        vector: Vector = (await self.embed([text], embedder))[0]
        return vector

    def _embed_without(
        self, text: str, left_out: frozenset[str], embedder: Embedder
    ) -> asyncio.Future[Vector]:
        """The embedding of `text` without the words `left_out`, started."""
        return asyncio.ensure_future(self._embed_one(keywords.without(text, left_out), embedder))

    async def vector(self, query: Query) -> Vector | None:
        """The vector `query` looks for, as known before its search: the
        caller's, or its text's embedding (one) in vector mode; None when
        it has no query, or in keyword mode, or in hybrid mode, whose
        `search` embeds the text once it knows the words to leave out."""
        if query.mode is not RecallMode.VECTOR or query.text is None:
            return query.vector
        return await self._embed_one(query.text, _model(query).embedder)

    async def search(
        self, ns: str, query: Query, vector: Vector | None, flt: MemoryFilter | None = None
    ) -> list[Match]:
        """The best memories of `ns` for `query` (a query that is not
        empty), within its limit, found by its mode (`vector`: its
        `vector()`), among those `flt` (default: the query's filter) keeps;
        each is recorded as accessed (a match a response then leaves out
        for its byte budget too). In keyword and hybrid mode, the words too
        common in that scope are left out (one round trip to count them);
        in hybrid mode the text is embedded without them, meanwhile, as
        the scope's last counts say (`CommonWords`), again after the count
        when it says otherwise."""
        flt = query.filter if flt is None else flt
        model = _model(query)
        found = () if query.text is None else keywords.words(query.text)
        counts, words, time, embedding = NO_COUNTS, found, None, None
        guessed: frozenset[str] = frozenset()
        try:
            if query.mode is RecallMode.HYBRID and query.text is not None:
                time = named_time(query.text)
                guessed = self._common.guess(ns, flt, found)
                embedding = self._embed_without(query.text, guessed, model.embedder)
            if found and query.mode is not RecallMode.VECTOR:
                counts = await self._store.count_words(ns, flt, found)
                words = counts.telling()
                self._common.learn(ns, flt, found, words)
                left_out = frozenset(found) - frozenset(words)
                if embedding is not None and query.text is not None and left_out != guessed:
                    _let_go(embedding)
                    embedding = self._embed_without(query.text, left_out, model.embedder)
            wanted = Recall(
                mode=query.mode,
                limit=query.limit,
                max_distance=query.max_distance,
                keyword_weight=query.keyword_weight,
                neighbor_weight=query.neighbor_weight,
                time_weight=query.time_weight,
                vector=vector,
                words=words,
                counts=counts,
                time=time,
            )
            metrics.searched(query.mode)
            found_matches = await self._store.recall(ns, flt, wanted, embedding, field=model.field)
        finally:
            if embedding is not None:
                _let_go(embedding)
        self._access.record(ns, (match.memory.id for match in found_matches))
        return found_matches


def _model(query: Query) -> Model:
    """The model a parsed query is searched with."""
    assert query.model is not None, "a query of parse has its model"
    return query.model


def _let_go(embedding: asyncio.Future[Vector]) -> None:
    """Drops an embedding no one awaits any more: cancelled while pending,
    its error (if it failed) taken, so that none is reported as unread."""
    if not embedding.done():
        embedding.cancel()
    elif not embedding.cancelled():
        embedding.exception()


def matches(
    found: Sequence[Match], budget: int = MAX_PAGE_BYTES, *, at_least_one: bool = True
) -> list[ltm_pb.MemoryMatch]:
    """The best of `found` (best first) whose messages fit in `budget`
    bytes: the worse are left out. The best is kept whatever its size unless
    `at_least_one` is False (a memory alone always fits what a client
    accepts, but not always next to a large session)."""
    messages = (memory_fields.match(m) for m in found)
    return paging.fitting(messages, budget, at_least_one=at_least_one)
