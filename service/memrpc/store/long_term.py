"""Long-term memories: one Redis Hash per memory (`store/memory_document.py`
holds its fields), recalled through the Redis Search index of
`memory_index`.

Reads (`get`, `search`, `list_page`, the scripts' replies) load the fields
of `memory_document.READ_FIELDS`; the embedding never leaves Redis.
Listings page through the index in a total order (`memory_listing`).

Memories of storage schema 2 (JSON documents, `memory_index.LEGACY_INDEX`)
are converted in place by `store/migration.py`; until none is left, every
search here also searches the legacy index, and a memory found there or
read by key is converted first (`lua/memory_upgrade.lua`), so callers only
ever see schema 4.

Creates deduplicate and write in `lua/dedup_insert.lua`, one script call
per `CREATE_BATCH` items; an update in `lua/dedup_update.lua`, which also
checks and bumps the version; a delete in `lua/delete_memory.lua` (version
check and `DEL` in one step); deletes by filter in `lua/delete_memories.lua`.

A create with a request id (AIP-155; `store/request_ids.py`) is remembered
in the Hash `keys.memory_request(ns, request_id)` for `REMEMBER_MS`:

| field         | holds                                                   |
|---------------|---------------------------------------------------------|
| `fingerprint` | the request's fingerprint, which a repeat must match    |
| `<i>`         | item `i`'s outcome: `written 0 <memory id>`, or         |
|               | `duplicate <distance> <memory id>`                      |

Each item's field is written in the same script step as its insert or hit,
so an item is done once however its request is retried: a repeat returns
the recorded outcome with the memory as it is now, and completes the items
a failed call did not reach.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
import redis.exceptions

from memrpc.limits import EPISODIC_TTL_S, MAX_PAGE_BYTES
from memrpc.namespace_defaults import RecallMode
from memrpc.store import keys, memory_document, recall, scripts
from memrpc.store.access import AccessStore
from memrpc.store.keyword_scores import WordCounts
from memrpc.store.legacy_search import LegacySearch
from memrpc.store.memory_document import DEFAULT_VECTOR_TYPE, READ_FIELDS, VectorType
from memrpc.store.memory_index import (
    DISTANCE,
    INDEX,
    LEGACY_INDEX,
    ORIGINAL_FIELD,
    DedupQueries,
    Flag,
    Kind,
    MemoryFilter,
    ModelField,
    alter_command,
    create_command,
    dedup_queries,
    filter_query,
    index_fields,
    indexed_fields,
    info_command,
    is_node_index,
    knn,
    metadata_tags,
    missing_fields,
    model_alter_command,
    text_hash,
    topic_tags,
    vector_type_of,
)
from memrpc.store.memory_indexes import MemoryIndexes
from memrpc.store.memory_listing import Order, Position, list_rows
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_errors import IndexExistsError
from memrpc.store.redis_mux import Arg, RedisClient
from memrpc.store.request_ids import REMEMBER_MS, RequestId, RequestIdReused
from memrpc.store.script_args import (
    DedupInsert,
    DedupUpdate,
    DeleteMemories,
    DeleteMemory,
    MemoryUpgrade,
    VectorWrite,
    insert_item,
)
from memrpc.store.set_aside import Execute
from memrpc.store.ulid import new_ulid
from memrpc.store.versions import VersionMismatch

Vector = npt.NDArray[np.float32]

# The lifetime of an episodic memory created without one, unless the caller
# gives its own (a namespace's setting); a semantic one never expires.
EPISODIC_TTL_MS = EPISODIC_TTL_S * 1000
# A `ttl_ms` asking for the kind's default lifetime.
KIND_DEFAULT_TTL = -1
# How many memories one call of `delete_memories.lua` deletes at most: each
# costs Redis its removal from the vector index (~0.1 ms), so a call stays
# within a few ms of Redis time (bench/redis_time.py).
DELETE_BATCH = 8
# How many memories a listing reads in its first pipelined `HMGET`s: enough
# for a page of small memories to take one or two reads, few enough that
# large ones (up to about 300 KiB each) read little past the page's byte
# budget.
LIST_FIRST_READ = 16
# Items per `dedup_insert.lua` call of a create: each costs Redis two
# searches and an index insert (~0.3 ms), so a call stays within a few ms of
# Redis time, during which every other client waits (bench/redis_time.py).
CREATE_BATCH = 5
_KINDS = {kind.value: kind for kind in Kind}


class Keep(Enum):
    """A patch's value for a field it leaves as it is (where None means
    "none")."""

    KEEP = "keep"


class Source(StrEnum):
    """Who wrote a memory, as stored."""

    # Not recorded: a document written before sources (a client's).
    UNSPECIFIED = ""
    CLIENT = "client"
    # The formation job, from the turns that left a thread's window.
    FORMATION = "formation"
    # The formation job with a language model: a fact extracted from turns.
    EXTRACTION = "extraction"


@dataclass(frozen=True)
class OtherVector:
    """The vector of a memory's text by the other model of a move
    (`memrpc/models.py`), written beside the namespace's model's, in that
    model's field."""

    field: ModelField
    embedding: Vector


@dataclass(frozen=True)
class NewMemory:
    """A memory to create. `ttl_ms`: its lifetime, 0 for never, or
    `KIND_DEFAULT_TTL`."""

    text: str
    embedding: Vector
    user_id: str = ""
    kind: Kind = Kind.SEMANTIC
    thread_id: str = ""
    topics: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)
    ttl_ms: int = KIND_DEFAULT_TTL
    source: Source = Source.CLIENT
    # A formed memory's turns: their event ids, and when the first and the
    # last were appended (ms since the epoch).
    source_event_ids: tuple[str, ...] = ()
    start_ms: int = 0
    end_ms: int = 0
    pinned: bool = False
    # When the remembered thing happened (ms since the epoch); None: unknown.
    event_ms: int | None = None
    # The other model's vector of the text, during a move; None: none.
    other: OtherVector | None = None
    # The id a client chose (`memory_ids.is_client_id`); '': a new ULID.
    memory_id: str = ""


@dataclass(frozen=True)
class MemoryPatch:
    """New values for a stored memory; None leaves a field as it is. `text`
    and `embedding` change together; `ttl_ms` as in `NewMemory`, from now;
    `pinned` also sets the `pinned` flag (`update` keeps the others);
    `event_ms` None removes the event time, `Keep.KEEP` keeps it."""

    text: str | None = None
    embedding: Vector | None = None
    topics: tuple[str, ...] | None = None
    metadata: Mapping[str, str] | None = None
    ttl_ms: int | None = None
    pinned: bool | None = None
    event_ms: int | Keep | None = Keep.KEEP
    # The other model's vector of a new text, during a move; None: none.
    other: OtherVector | None = None


@dataclass(frozen=True)
class Memory:
    """A stored memory, without its embedding. `expire_ms` is 0 for never."""

    id: str
    namespace: str
    user_id: str
    kind: Kind
    thread_id: str
    topics: tuple[str, ...]
    text: str
    metadata: dict[str, str]
    create_ms: int
    update_ms: int
    expire_ms: int
    hit_count: int
    version: int
    source: Source
    source_event_ids: tuple[str, ...]
    # 0: none (a client's memory).
    start_ms: int
    end_ms: int
    pinned: bool = False
    # How many searches returned it, and when the last did (0: never).
    access_count: int = 0
    last_access_ms: int = 0
    # The memories consolidation merged into it, in order.
    merged_ids: tuple[str, ...] = ()
    # The newer memory that supersedes it; '' when none.
    superseded_by: str = ""
    # When the remembered thing happened; None when unknown.
    event_ms: int | None = None


@dataclass(frozen=True)
class Created:
    """The outcome of one item of a create: `created` memory `memory_id`
    (`replaced`: the memory that held its client-chosen id, replaced), or
    else the existing memory it duplicates, at `distance` (0 for the same
    text). `replayed`: an earlier call with the same request id did the
    item, and `memory` is that memory as it is now (None: deleted since)."""

    created: bool
    memory_id: str
    memory: Memory | None
    distance: float
    replayed: bool = False
    replaced: bool = False


@dataclass(frozen=True)
class Match:
    """A memory found by a search: its distance from the query's vector (0
    in keyword mode), its BM25 score for the query's words (0 in vector
    mode), and the score matches are ranked by (`store/recall.py`)."""

    memory: Memory
    distance: float
    keyword_score: float
    score: float


@dataclass(frozen=True)
class Listed:
    """A page of a listing: its memories, in order, and whether reading
    stopped at its byte budget (`cut`) with more memories after them."""

    memories: list[Memory]
    cut: bool


class MemoryIdTaken(Exception):
    """A create's item asked for a memory id that a memory holds (the
    create did not ask to replace it); nothing was written."""

    def __init__(self, index: int, memory_id: str) -> None:
        super().__init__(f"memory id {memory_id} of item {index} is taken")
        self.index = index
        self.memory_id = memory_id


class DuplicateMemoryError(Exception):
    """An update would repeat another memory of the same scope, at `distance`
    (0 for the same text)."""

    def __init__(self, memory_id: str, distance: float) -> None:
        super().__init__(f"the memory repeats memory {memory_id} at distance {distance:g}")
        self.memory_id = memory_id
        self.distance = distance


class VectorTypeMismatch(Exception):
    """The index holds vectors of another `VectorType` than the server's."""

    def __init__(self, indexed: VectorType, wanted: VectorType) -> None:
        super().__init__(
            f"the memories' index holds {indexed.value} vectors, not the {wanted.value} of "
            f"--vector-type: start with --vector-type {indexed.value}"
        )


class LongTermStore:
    """Long-term memories of every namespace, in Redis, their vectors held as
    `vector_type` values; a namespace's searches and writes use the vector
    field they are given (`memrpc/models.py`), else `field`: the default
    model's."""

    def __init__(
        self,
        redis: RedisClient,
        *,
        dim: int,
        vector_type: VectorType = DEFAULT_VECTOR_TYPE,
        field: ModelField = ORIGINAL_FIELD,
    ) -> None:
        self._redis = redis
        self.dim = dim
        self.vector_type = vector_type
        self.field = field
        self._insert = scripts.load(redis, DedupInsert)
        self._update = scripts.load(redis, DedupUpdate)
        self._delete = scripts.load(redis, DeleteMemory)
        self._delete_batch = scripts.load(redis, DeleteMemories)
        # Searches of schema 2's index while it exists (on one Redis).
        self.legacy = LegacySearch(self._command, scripts.load(redis, MemoryUpgrade), vector_type)
        # The index holding each namespace's memories (one per primary of a
        # Redis Cluster), made where missing.
        self.indexes = MemoryIndexes(
            redis, create=lambda name: create_command(dim, vector_type, name)
        )
        # The namespaces with memories, for the periodic jobs (forgetting).
        self.namespaces = NamespaceSet(redis)

    async def _command(self, *args: Arg) -> Any:
        """One Redis command."""
        return await self._redis.execute(*args)

    def searches(self, ns: str) -> Execute:
        """The search function of the memories of `ns`: a search command of
        `INDEX` sent to the index holding them (`MemoryIndexes.run`), and to
        schema 2's too while it exists (`LegacySearch.run`: one Redis)."""

        async def search(*args: Arg) -> Any:
            if self.legacy.active and (await self.index_names(ns))[1]:
                return await self.legacy.run(*args)
            return await self.indexes.run(ns, args)

        return search

    def access_store(self) -> AccessStore:
        """The writer of these memories' access counts."""
        return AccessStore(self._redis, self.vector_type)

    async def index_names(self, ns: str) -> tuple[str, str]:
        """The index a write script of `ns` searches for duplicates, and the
        legacy one it searches too: '' once it is gone, and on a Redis
        Cluster (which never held schema 2)."""
        name = await self.indexes.of(ns)
        legacy = self.legacy.active and not is_node_index(name)
        return name, LEGACY_INDEX if legacy else ""

    async def ensure_model_field(self, field: ModelField, dim: int) -> bool:
        """Adds the vector field of a model moved to (of `dim` values) to
        every index (one per primary of a Redis Cluster) lacking it; whether
        it added it anywhere. Search then indexes the memories that hold it
        (none yet) in the background. Processes starting together may add it
        at once: whichever `FT.ALTER` fails finds the field there."""
        added = False
        for name in await self._redis.keys_per_primary(INDEX):
            if field.index in indexed_fields(await self._command(*info_command(name))):
                continue
            try:
                await self._command(*model_alter_command(field, dim, self.vector_type, name))
            except redis.exceptions.ResponseError:
                if field.index not in indexed_fields(await self._command(*info_command(name))):
                    raise
                continue
            added = True
        return added

    def field_of(self, field: ModelField | None) -> ModelField:
        """The vector field a call uses: `field`, or (None) the default
        model's."""
        return field or self.field

    def vectors(
        self, embedding: Vector, other: OtherVector | None, field: ModelField | None
    ) -> VectorWrite:
        """The vectors a write stores: `embedding` in `field` (None: the
        default model's), and `other`'s if any."""
        return VectorWrite(
            vector=self.vector_type.blob(embedding),
            field=self.field_of(field).hash,
            other_field="" if other is None else other.field.hash,
            other=b"" if other is None else self.vector_type.blob(other.embedding),
        )

    async def ensure_index(self) -> list[str]:
        """Creates the index unless it exists (on a Redis Cluster, one on
        every primary: `store/memory_indexes.py`); adds to an existing one
        the fields of the schema it lacks (an index made by an earlier
        version) and returns their names. Search then indexes the existing
        memories again in the background; until it is done, listings may
        miss or misplace them. Servers starting together may add a field at
        once: whichever `FT.ALTER` fails finds the field there. Raises
        `VectorTypeMismatch` for an index of another vector type. Also finds
        whether schema 2's index is still there (`LegacySearch.find`)."""
        await self.legacy.find()
        missing: list[str] = []
        for name in await self._redis.keys_per_primary(INDEX):
            missing += await self._ensure_index(name)
        return list(dict.fromkeys(missing))

    async def _ensure_index(self, name: str) -> list[str]:
        """`ensure_index` of the index `name`."""
        try:
            await self._command(*create_command(self.dim, self.vector_type, name))
        except IndexExistsError:
            pass
        else:
            return []
        info = await self._command(*info_command(name))
        indexed = vector_type_of(info)
        if indexed is not self.vector_type:
            raise VectorTypeMismatch(indexed, self.vector_type)
        missing = missing_fields(self.dim, self.vector_type, info)
        for lacking in missing:
            try:
                await self._command(*alter_command(self.dim, self.vector_type, lacking, name))
            except redis.exceptions.ResponseError:
                info = await self._command(*info_command(name))
                if lacking in missing_fields(self.dim, self.vector_type, info):
                    raise
        return missing

    async def create(
        self,
        ns: str,
        items: Sequence[NewMemory],
        *,
        max_distance: float,
        request: RequestId | None = None,
        episodic_ttl_ms: int = EPISODIC_TTL_MS,
        field: ModelField | None = None,
        dedup: bool = True,
        replace: bool = False,
    ) -> list[Created]:
        """Creates memories, in order, skipping (with `dedup`) those that
        repeat a live memory of the same user and kind: same normalised
        text, or (when `max_distance` > 0) within that cosine distance. A
        repeated memory gains a hit instead. An item with a `memory_id`
        whose memory exists (and that no earlier call of the `request` did)
        raises `MemoryIdTaken` (checked for every item before the first
        script call, and by each call for its items: only a race can leave
        earlier calls' items written), or
        with `replace` replaces it (`Created.replaced`). An episodic memory created with
        `KIND_DEFAULT_TTL` lives `episodic_ttl_ms`. One script call per `CREATE_BATCH` items, one
        after the other: each item is deduplicated and written atomically and
        sees the items before it, and no call holds Redis for long.

        With a `request`, each item is done once in `REMEMBER_MS`: an item an
        earlier call with the same request id did is `replayed` (nothing
        written), and `RequestIdReused` is raised, before anything is
        written, if that call's fingerprint differs.

        A pinned item that repeats an unpinned memory pins it, in the same
        step (`lua/lib/memory.lua`). Vectors go to (and dedup searches)
        `field` (None: the default model's), each item's `other` beside."""
        await self.namespaces.note(ns)  # before the write: the periodic jobs will see it
        now = _now_ms()
        request_key = keys.memory_request(ns, "" if request is None else request.id)
        fingerprint = "" if request is None else request.fingerprint
        created: list[Created] = []
        index, legacy = await self.index_names(ns)
        ids = [item.memory_id or new_ulid(now) for item in items]
        if not replace:
            await self._check_free(ns, items, ids, request_key if request else None)
        for first in range(0, len(items), CREATE_BATCH):
            memories: list[Memory] = []
            groups: list[Sequence[Arg]] = []
            for at, item in enumerate(items[first : first + CREATE_BATCH], first):
                memory, doc = document(ns, ids[at], item, now, episodic_ttl_ms)
                memories.append(memory)
                queries = DedupQueries("", "", "")
                if dedup:
                    nearest = self.nearest_field(field, max_distance)
                    queries = dedup_queries(
                        ns, now, item.user_id, item.kind, item.text, nearest=nearest
                    )
                groups.append(
                    insert_item(
                        queries=queries,
                        vectors=self.vectors(item.embedding, item.other, field),
                        expire_ms=memory.expire_ms,
                        document=doc,
                    )
                )
            replies = await self._insert(
                DedupInsert(
                    request=request_key,
                    sequence=keys.memory_sequence(ns),
                    documents=[keys.memory(ns, memory.id) for memory in memories],
                    index=index,
                    legacy_index=legacy,
                    vector_type=self.vector_type,
                    max_distance=max_distance,
                    prefix=keys.memory(ns, ""),
                    fingerprint=fingerprint,
                    remember_ms=REMEMBER_MS if request else 0,
                    first=first,
                    existing="replace" if replace else "fail",
                    items=groups,
                )
            )
            if replies == [b"reused"]:
                raise RequestIdReused()
            if replies and replies[0] == b"taken":
                at = first + int(replies[1]) - 1
                raise MemoryIdTaken(at, ids[at])
            created += map(_created, memories, replies)
        return created

    async def _check_free(
        self, ns: str, items: Sequence[NewMemory], ids: list[str], request: str | None
    ) -> None:
        """`MemoryIdTaken` for the first item whose client-chosen id a
        memory holds (unless an earlier call of the `request`, its Hash,
        did the item), before any script call writes, so that a create of
        several calls fails whole; each call checks its own items again,
        atomically. Pipelined: an `EXISTS` per such id, an `HGET` per id
        taken."""
        chosen = [at for at, item in enumerate(items) if item.memory_id]
        found = await asyncio.gather(
            *(self._command("EXISTS", keys.memory(ns, ids[at])) for at in chosen)
        )
        taken = [at for at, exists in zip(chosen, found, strict=True) if exists]
        done: list[Any] = [None] * len(taken)
        if request is not None:
            done = await asyncio.gather(*(self._command("HGET", request, str(at)) for at in taken))
        for at, record in zip(taken, done, strict=True):
            if record is None:
                raise MemoryIdTaken(at, ids[at])

    def nearest_field(self, field: ModelField | None, max_distance: float) -> ModelField | None:
        """The vector field dedup searches (`field`, None: the default
        model's), or None when only the text counts."""
        return self.field_of(field) if max_distance > 0 else None

    async def get(self, ns: str, memory_id: str) -> Memory | None:
        """A live memory, or None. One `HMGET` (a script call while the
        memory is still a JSON document: `read`)."""
        found = await self.read(keys.memory(ns, memory_id), READ_FIELDS)
        return None if found is None else parse_memory(found)

    async def read(self, key: str, fields: Sequence[str]) -> list[bytes | None] | None:
        """The values of `fields` (the first `id`) of memory `key`; None when
        it does not exist. One `HMGET`; a JSON document of schema 2 is
        converted first (`LegacySearch.upgrade`)."""
        try:
            found: list[bytes | None] = await self._command("HMGET", key, *fields)
        except redis.exceptions.ResponseError as err:
            if err.status_code != "WRONGTYPE":  # the code `redis_errors.classify` read
                raise
            [found] = await self.legacy.upgrade([key], fields)
        # A memory always has its id: none is a key that does not exist.
        return found if found and found[0] is not None else None

    async def update(
        self,
        ns: str,
        memory_id: str,
        patch: MemoryPatch,
        *,
        max_distance: float,
        expected_version: int | None = None,
        episodic_ttl_ms: int = EPISODIC_TTL_MS,
        field: ModelField | None = None,
        dedup: bool = True,
    ) -> Memory | None:
        """Applies `patch` to a memory, bumps its version and returns it, or
        None when it does not exist. A new text that repeats another memory
        of the same scope (as in `create`; never without `dedup`) raises
        `DuplicateMemoryError`, and
        a memory not at `expected_version` (when given) `VersionMismatch`;
        either changes nothing. A `KIND_DEFAULT_TTL` of an episodic memory
        is `episodic_ttl_ms`. A new text's vector goes to (and dedup
        searches) `field` (None: the default model's), the patch's `other`
        beside. Two round trips: the memory's scope, then one script call
        that checks and writes."""
        if (patch.text is None) != (patch.embedding is None):
            raise ValueError("text and embedding change together")
        key = keys.memory(ns, memory_id)
        doc = memory_document
        found = await self.read(key, (doc.ID, doc.USER, doc.KIND))
        if found is None:
            if expected_version is not None:
                raise VersionMismatch(0)
            return None
        user_id, kind = (memory_document.unhex(_text(value)) for value in found[1:])
        kind = _KINDS[kind]
        now = _now_ms()
        queries = DedupQueries("", "", "")
        if patch.text is not None and dedup:
            nearest = self.nearest_field(field, max_distance)
            queries = dedup_queries(ns, now, user_id, kind, patch.text, nearest=nearest)
        changes, expire = _changes(patch, kind, now, episodic_ttl_ms)
        vectors = (
            VectorWrite(b"", self.field_of(field).hash)
            if patch.embedding is None
            else self.vectors(patch.embedding, patch.other, field)
        )
        index, legacy = await self.index_names(ns)
        reply = await self._update(
            DedupUpdate(
                document=key,
                probe=keys.probe(ns),
                index=index,
                legacy_index=legacy,
                vector_type=self.vector_type,
                max_distance=max_distance,
                prefix=keys.memory(ns, ""),
                expected_version=_expected(expected_version),
                exact=queries.exact,
                legacy_exact=queries.legacy_exact,
                knn=queries.knn,
                vector=vectors.vector,
                field=vectors.field,
                other_field=vectors.other_field,
                other_vector=vectors.other,
                expire_ms=expire,
                pinned="" if patch.pinned is None else str(int(patch.pinned)),
                changes=changes,
            )
        )
        outcome = reply[0]
        if outcome == b"mismatch":
            raise VersionMismatch(int(reply[1]))
        if outcome == b"missing":
            return None
        if outcome == b"duplicate":
            raise DuplicateMemoryError(parse_memory(reply[2]).id, _distance(reply[1]))
        return parse_memory(reply[1])

    async def delete(self, ns: str, memory_id: str, *, expected_version: int | None = None) -> bool:
        """Deletes a memory; False when it did not exist. `VersionMismatch`
        (nothing deleted) when it is not at `expected_version` (when given).
        One script call: the check and the `DEL` in one step."""
        version, deleted = await self._delete(
            DeleteMemory(
                document=keys.memory(ns, memory_id),
                expected_version=_expected(expected_version),
                vector_type=self.vector_type,
            )
        )
        if expected_version is not None and version != expected_version:
            raise VersionMismatch(version)
        return bool(deleted)

    async def search(
        self,
        ns: str,
        vector: Vector,
        flt: MemoryFilter,
        *,
        limit: int,
        max_distance: float,
        field: ModelField | None = None,
    ) -> list[Match]:
        """The `limit` live memories nearest to `vector` among those `flt`
        keeps, nearest first, none farther than `max_distance` (`recall` in
        vector mode), in the vector field `field` (None: the default
        model's)."""
        wanted = recall.Recall(RecallMode.VECTOR, limit, max_distance, vector=vector)
        return await self.recall(ns, flt, wanted, field=field)

    async def count_words(self, ns: str, flt: MemoryFilter, found: tuple[str, ...]) -> WordCounts:
        """How many memories of `ns` `flt` keeps, and how many of them hold
        each of `found` (a query's words; `recall.count_words`): one
        pipelined round trip."""
        return await recall.count_words(self.searches(ns), ns, _now_ms(), flt, found)

    async def recall(
        self,
        ns: str,
        flt: MemoryFilter,
        wanted: recall.Recall,
        embedding: Awaitable[Vector] | None = None,
        *,
        field: ModelField | None = None,
    ) -> list[Match]:
        """The best `wanted.limit` live memories among those `flt` keeps,
        found as `wanted.mode` says (`store/recall.py`), best first, near
        `wanted.vector` (else the `embedding` being computed, in hybrid
        mode). One `FT.SEARCH`; in hybrid mode one while the query is
        embedded, then two pipelined; the memories' JSON is parsed in one
        go. Vectors are those of `field` (None: the default model's)."""
        now = _now_ms()
        searched = self.field_of(field)

        def knn_search(vector: Vector) -> tuple[Sequence[Arg], bytes]:
            query = self.vector_type.blob(vector)
            command = search_command(
                ns, now, flt, query, wanted.candidates, field=searched, fields=wanted.paths
            )
            return command, query

        hits = await recall.find(
            self.searches(ns),
            ns,
            now,
            flt,
            wanted,
            knn_search=knn_search if wanted.by_vector else None,
            embedding=embedding,
            field=searched,
        )
        return [
            Match(_memory(hit.memory), hit.distance, hit.keyword_score, hit.score) for hit in hits
        ]

    async def list_page(
        self,
        ns: str,
        flt: MemoryFilter,
        order: Order,
        after: Position | None,
        *,
        count: int,
        max_bytes: int = MAX_PAGE_BYTES,
    ) -> Listed:
        """The first `count` live memories of `ns` that `flt` keeps, in
        `order`, after the memory at `after` (from the first when None).

        A few searches (`memory_listing.list_rows`, each bounded by the
        page) find their keys (of both indexes while schema 2's exists:
        `LegacySearch`); their fields are
        then read with pipelined `HMGET`s, `LIST_FIRST_READ` at first, then
        as many as the bytes read so far say fit in what is left of
        `max_bytes`. Reading stops once `max_bytes` are read, so a page of
        large memories never reads more than about `max_bytes` plus one
        read's worth from Redis (`Listed.cut` then says more may follow)."""
        rows = await list_rows(
            self.searches(ns), ns, _now_ms(), flt, order=order, after=after, count=count
        )
        found_keys = [keys.memory(ns, row.id) for row in rows]
        found: list[Memory] = []
        read = 0
        start, take = 0, LIST_FIRST_READ
        while start < len(found_keys):
            chunk = found_keys[start : start + take]
            start += len(chunk)
            # A memory can vanish between the search and its read.
            values = await asyncio.gather(*(self.read(key, READ_FIELDS) for key in chunk))
            for value in values:
                if value is not None:
                    found.append(parse_memory(value))
                    read += sum(len(part) for part in value if part is not None)
            if read >= max_bytes:
                return Listed(found, cut=start < len(found_keys))
            take = max(1, (max_bytes - read) * len(found) // read) if read else len(found_keys)
        return Listed(found, cut=False)

    async def delete_matching(self, ns: str, flt: MemoryFilter) -> int:
        """Deletes every live memory of `ns` that `flt` keeps; returns how many.
        One script call per `DELETE_BATCH` memories."""
        query = filter_query(ns, _now_ms(), flt)
        prefix = keys.memory(ns, "")
        total = 0
        index, legacy = await self.index_names(ns)
        while True:
            found: int
            deleted: int
            found, deleted = await self._delete_batch(
                DeleteMemories(
                    prefix=prefix,
                    probe=keys.probe(ns),
                    index=index,
                    legacy_index=legacy,
                    query=query,
                    batch_size=DELETE_BATCH,
                )
            )
            total += deleted
            # A full batch may leave more; a batch that deleted nothing (its
            # memories vanished meanwhile) must not loop for ever.
            if found < DELETE_BATCH or deleted == 0:
                return total


def search_command(
    ns: str,
    now_ms: int,
    flt: MemoryFilter,
    vector: bytes,
    limit: int,
    *,
    field: ModelField,
    fields: Sequence[str] = (),
) -> list[Arg]:
    """The `FT.SEARCH` of `LongTermStore.search`: the `limit` memories of
    `ns` that `flt` keeps nearest to `vector` (a query blob) in the vector
    field `field`, each with its `READ_FIELDS`, distance and `fields`."""
    returned = [*READ_FIELDS, DISTANCE, *fields]
    return [
        "FT.SEARCH", INDEX, knn(filter_query(ns, now_ms, flt), limit, field),
        "PARAMS", 2, "v", vector,
        "SORTBY", DISTANCE,
        "RETURN", len(returned), *returned,
        "LIMIT", 0, limit,
        "DIALECT", 3,
    ]  # fmt: skip


def document(
    ns: str, memory_id: str, item: NewMemory, now_ms: int, episodic_ttl_ms: int = EPISODIC_TTL_MS
) -> tuple[Memory, str]:
    """A new memory, and the JSON object of its Hash's fields but its vector
    and number (what `create` sends `dedup_insert.lua`)."""
    expire_ms = _expire_ms(item.kind, item.ttl_ms, now_ms, episodic_ttl_ms)
    memory = Memory(
        id=memory_id,
        namespace=ns,
        user_id=item.user_id,
        kind=item.kind,
        thread_id=item.thread_id,
        topics=item.topics,
        text=item.text,
        metadata=dict(item.metadata),
        create_ms=now_ms,
        update_ms=now_ms,
        expire_ms=expire_ms,
        hit_count=1,
        version=1,
        source=item.source,
        source_event_ids=item.source_event_ids,
        start_ms=item.start_ms,
        end_ms=item.end_ms,
        pinned=item.pinned,
        event_ms=item.event_ms,
    )
    doc = memory_document
    fields = index_fields(
        ns,
        user_id=item.user_id,
        thread_id=item.thread_id,
        kind=item.kind,
        topics=item.topics,
        text=item.text,
        metadata=item.metadata,
        flags=(Flag.PINNED,) if item.pinned else (),
    )
    fields |= {doc.ID: memory_id, doc.TEXT: item.text, doc.CREATE_MS: str(now_ms)}
    fields[doc.HIT_COUNT] = "1"
    optional = {
        doc.METADATA: _json(dict(item.metadata)) if item.metadata else "",
        doc.EXPIRE_MS: str(expire_ms) if expire_ms else "",
        doc.EVENT_MS: "" if item.event_ms is None else str(item.event_ms),
        doc.SOURCE: item.source.value,
        doc.SOURCE_EVENT_IDS: _json(item.source_event_ids) if item.source_event_ids else "",
        doc.START_MS: str(item.start_ms) if item.start_ms else "",
        doc.END_MS: str(item.end_ms) if item.end_ms else "",
        doc.PINNED: "1" if item.pinned else "",
    }
    fields |= {name: value for name, value in optional.items() if value}
    return memory, _json(fields)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _expire_ms(kind: Kind, ttl_ms: int, now_ms: int, episodic_ttl_ms: int) -> int:
    """When a memory of `kind` living `ttl_ms` from now expires (an episodic
    one of the kind's default lifetime: `episodic_ttl_ms`); 0 for never."""
    ttl = ttl_ms
    if ttl_ms == KIND_DEFAULT_TTL:
        ttl = episodic_ttl_ms if kind is Kind.EPISODIC else 0
    return now_ms + ttl if ttl else 0


def _changes(
    patch: MemoryPatch, kind: Kind, now_ms: int, episodic_ttl_ms: int
) -> tuple[list[tuple[str, str]], str]:
    """The (Hash field, value) writes of a patch ('' removes the field), and
    the expire argument of `dedup_update.lua` ('' to keep the expiry; the
    script writes the `e` field from it)."""
    doc = memory_document
    changes = [(doc.UPDATE_MS, str(now_ms))]
    if patch.text is not None and patch.embedding is not None:
        changes += [(doc.TEXT, patch.text), (doc.TEXT_HASH, str(text_hash(patch.text)))]
    if patch.topics is not None:
        changes.append((doc.TOPICS, doc.joined(topic_tags(patch.topics))))
    if patch.metadata is not None:
        changes.append((doc.METADATA, _json(dict(patch.metadata)) if patch.metadata else ""))
        changes.append((doc.METADATA_TAGS, doc.joined(metadata_tags(patch.metadata))))
    if patch.event_ms is not Keep.KEEP:
        changes.append((doc.EVENT_MS, "" if patch.event_ms is None else str(patch.event_ms)))
    if patch.ttl_ms is None:
        return changes, ""
    return changes, str(_expire_ms(kind, patch.ttl_ms, now_ms, episodic_ttl_ms))


def _memory(found: Mapping[str, str]) -> Memory:
    """A memory from the fields of its Hash (`memory_document.decode`, whose
    names are `Memory`'s)."""
    value = memory_document.decode(found)
    return Memory(
        **value
        | {
            "kind": _KINDS[value["kind"]],
            "source": Source(value["source"]),
            **{name: tuple(value[name]) for name in ("topics", "source_event_ids", "merged_ids")},
        }
    )


def parse_memory(found: Sequence[bytes | None]) -> Memory:
    """A memory from the `READ_FIELDS` values of its Hash (an `HMGET`, a
    script's reply: None for an absent field)."""
    return _memory(
        {
            name: value.decode()
            for name, value in zip(READ_FIELDS, found, strict=True)
            if value is not None
        }
    )


def _created(memory: Memory, reply: Sequence[Any]) -> Created:
    """The outcome of a create item from its reply of `dedup_insert.lua`:
    `memory` itself when written, else the memory it repeats; for an item
    done before, the recorded outcome with its memory as it is now."""
    if len(reply) == 1:
        return Created(created=True, memory_id=memory.id, memory=memory, distance=0.0)
    if len(reply) == 2:
        written = parse_memory(reply[1])
        return Created(True, written.id, written, 0.0, replaced=True)
    distance = _distance(reply[1])
    if len(reply) == 3:
        repeated = parse_memory(reply[2])
        return Created(created=False, memory_id=repeated.id, memory=repeated, distance=distance)
    return Created(
        created=reply[0] != b"duplicate",
        memory_id=reply[3].decode(),
        memory=parse_memory(reply[2]) if reply[2] else None,
        distance=distance,
        replayed=True,
        replaced=reply[0] == b"replaced",
    )


def _expected(version: int | None) -> str:
    """An expected version as the scripts take it: '' for any."""
    return "" if version is None else str(version)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _text(value: bytes | None) -> str:
    return "" if value is None else value.decode()


def _distance(value: bytes) -> float:
    """A distance from Redis, float32 rounding of 0 snapped to 0."""
    return recall.snapped(float(value))
