"""Long-term memories: one Redis JSON document per memory, recalled through
the Redis Search index of `memory_index`.

The document at `keys.memory(ns, id)`:

| field                                  | holds                                   |
|----------------------------------------|-----------------------------------------|
| `memory`                               | the `Memory`: everything a read returns |
| `memory.id`, `.namespace`, `.user_id`, | strings ('' for no user or thread)      |
| `.kind`, `.thread_id`, `.text`         |                                         |
| `memory.topics`, `.metadata`           | list of strings, object of strings      |
| `memory.create_ms`, `.update_ms`       | ms since the epoch                      |
| `memory.expire_ms`                     | when the memory (and key) expires, or 0 |
| `memory.hit_count`                     | 1 + the duplicates merged into it       |
| `memory.version`                       | 1 + the updates (absent: 1, from before |
|                                        | versions)                               |
| `memory.source`                        | `client` or `formation` (absent: not    |
|                                        | recorded, from before sources)          |
| `memory.source_event_ids`              | a formed memory's turn event ids        |
| `memory.start_ms`, `.end_ms`           | a formed memory's time span (0: none)   |
| `memory.event_ms`                      | when the remembered thing happened, or  |
|                                        | null (absent: from before event times)  |
| `embedding`                            | the vector: float32 values written with |
|                                        | 9 significant digits (exact round trip) |
| `tags`                                 | what the index filters on (`tags()`)    |
| `live_until`                           | `expire_ms`, or `NEVER_MS` for never    |

Reads (`get`, `search`, `list_page`, the script's replies) load the one path
`$.memory` and parse it once; the embedding never leaves Redis. Listings
page through the index in a total order (`memory_listing`).

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

import functools
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
from memrpc.store import keys, recall, scripts
from memrpc.store.keyword_scores import WordCounts
from memrpc.store.memory_index import (
    DISTANCE,
    INDEX,
    MEMORY_PATHS,
    NEVER_MS,
    Flag,
    Kind,
    MemoryFilter,
    alter_command,
    create_command,
    dedup_queries,
    filter_query,
    info_command,
    knn,
    metadata_tags,
    missing_fields,
    tags,
    text_hash,
    topic_tags,
)
from memrpc.store.memory_listing import KEY_FIELD, Order, Position, list_command
from memrpc.store.namespaces import NamespaceSet
from memrpc.store.redis_errors import IndexExistsError
from memrpc.store.redis_mux import Arg, RedisMux
from memrpc.store.request_ids import REMEMBER_MS, RequestId, RequestIdReused
from memrpc.store.script_args import (
    DedupInsert,
    DedupUpdate,
    DeleteMemories,
    DeleteMemory,
    insert_item,
)
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
# How many documents a listing reads in its first `JSON.MGET`: enough for
# a page of small memories to take one or two reads, few enough that large
# ones (up to about 300 KiB each) read little past the page's byte budget.
LIST_FIRST_READ = 16
# Items per `dedup_insert.lua` call of a create: each costs Redis two
# searches and an index insert (~0.3 ms), so a call stays within a few ms of
# Redis time, during which every other client waits (bench/redis_time.py).
CREATE_BATCH = 5
_KEY_FIELD = KEY_FIELD.encode()
# Enough significant digits for every float32 to read back as itself.
_FLOAT32_FORMAT = "%.9g"
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
    """The outcome of one item of a create: `created` memory `memory_id`, or
    else the existing memory it duplicates, at `distance` (0 for the same
    text). `replayed`: an earlier call with the same request id did the
    item, and `memory` is that memory as it is now (None: deleted since)."""

    created: bool
    memory_id: str
    memory: Memory | None
    distance: float
    replayed: bool = False


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


class DuplicateMemoryError(Exception):
    """An update would repeat another memory of the same scope, at `distance`
    (0 for the same text)."""

    def __init__(self, memory_id: str, distance: float) -> None:
        super().__init__(f"the memory repeats memory {memory_id} at distance {distance:g}")
        self.memory_id = memory_id
        self.distance = distance


class LongTermStore:
    """Long-term memories of every namespace, in Redis."""

    def __init__(self, redis: RedisMux, *, dim: int) -> None:
        self._redis = redis
        self.dim = dim
        self._insert = scripts.load(redis, DedupInsert)
        self._update = scripts.load(redis, DedupUpdate)
        self._delete = scripts.load(redis, DeleteMemory)
        self._delete_batch = scripts.load(redis, DeleteMemories)
        # The namespaces with memories, for the periodic jobs (forgetting).
        self.namespaces = NamespaceSet(redis)

    async def _command(self, *args: Arg) -> Any:
        """One Redis command."""
        return await self._redis.execute(*args)

    async def ensure_index(self) -> list[str]:
        """Creates the index unless it exists; adds to an existing one the
        fields of the schema it lacks (an index made by an earlier version)
        and returns their names. Search then indexes the existing memories
        again in the background; until it is done, listings may miss or
        misplace them. Servers starting together may add a field at once:
        whichever `FT.ALTER` fails finds the field there."""
        try:
            await self._command(*create_command(self.dim))
        except IndexExistsError:
            pass
        else:
            return []
        missing = missing_fields(self.dim, await self._command(*info_command()))
        for name in missing:
            try:
                await self._command(*alter_command(self.dim, name))
            except redis.exceptions.ResponseError:
                if name in missing_fields(self.dim, await self._command(*info_command())):
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
    ) -> list[Created]:
        """Creates memories, in order, skipping those that repeat a live memory
        of the same user and kind: same normalised text, or (when
        `max_distance` > 0) within that cosine distance. A repeated memory
        gains a hit instead. An episodic memory created with
        `KIND_DEFAULT_TTL` lives `episodic_ttl_ms`. One script call per `CREATE_BATCH` items, one
        after the other: each item is deduplicated and written atomically and
        sees the items before it, and no call holds Redis for long.

        With a `request`, each item is done once in `REMEMBER_MS`: an item an
        earlier call with the same request id did is `replayed` (nothing
        written), and `RequestIdReused` is raised, before anything is
        written, if that call's fingerprint differs.

        A pinned item that repeats an unpinned memory pins it, in the same
        step (`lua/lib/memory.lua`)."""
        await self.namespaces.note(ns)  # before the write: the periodic jobs will see it
        now = _now_ms()
        request_key = keys.memory_request(ns, "" if request is None else request.id)
        fingerprint = "" if request is None else request.fingerprint
        created: list[Created] = []
        for first in range(0, len(items), CREATE_BATCH):
            memories: list[Memory] = []
            groups: list[Sequence[Arg]] = []
            for item in items[first : first + CREATE_BATCH]:
                memory, doc = document(ns, new_ulid(now), item, now, episodic_ttl_ms)
                memories.append(memory)
                exact, near = dedup_queries(
                    ns, now, item.user_id, item.kind, item.text, nearest=max_distance > 0
                )
                groups.append(
                    insert_item(
                        exact=exact,
                        knn=near,
                        vector=blob(item.embedding),
                        expire_ms=memory.expire_ms,
                        document=doc,
                    )
                )
            replies = await self._insert(
                DedupInsert(
                    request=request_key,
                    sequence=keys.memory_sequence(ns),
                    documents=[keys.memory(ns, memory.id) for memory in memories],
                    index=INDEX,
                    max_distance=max_distance,
                    prefix=keys.memory(ns, ""),
                    fingerprint=fingerprint,
                    remember_ms=REMEMBER_MS if request else 0,
                    first=first,
                    items=groups,
                )
            )
            if replies == [b"reused"]:
                raise RequestIdReused()
            created += map(_created, memories, replies)
        return created

    async def get(self, ns: str, memory_id: str) -> Memory | None:
        """A live memory, or None. One `JSON.GET`."""
        found = await self._command("JSON.GET", keys.memory(ns, memory_id), *MEMORY_PATHS)
        return None if found is None else parse_memory(found)

    async def update(
        self,
        ns: str,
        memory_id: str,
        patch: MemoryPatch,
        *,
        max_distance: float,
        expected_version: int | None = None,
        episodic_ttl_ms: int = EPISODIC_TTL_MS,
    ) -> Memory | None:
        """Applies `patch` to a memory, bumps its version and returns it, or
        None when it does not exist. A new text that repeats another memory
        of the same scope (as in `create`) raises `DuplicateMemoryError`, and
        a memory not at `expected_version` (when given) `VersionMismatch`;
        either changes nothing. A `KIND_DEFAULT_TTL` of an episodic memory
        is `episodic_ttl_ms`. Two round trips: the memory's scope, then
        one script call that checks and writes."""
        if (patch.text is None) != (patch.embedding is None):
            raise ValueError("text and embedding change together")
        key = keys.memory(ns, memory_id)
        found = await self._command("JSON.GET", key, "$.memory.user_id", "$.memory.kind")
        if found is None:
            if expected_version is not None:
                raise VersionMismatch(0)
            return None
        scope = json.loads(found)
        user_id, kind = scope["$.memory.user_id"][0], _KINDS[scope["$.memory.kind"][0]]
        now = _now_ms()
        exact = near = ""
        if patch.text is not None:
            exact, near = dedup_queries(
                ns, now, user_id, kind, patch.text, nearest=max_distance > 0
            )
        changes, expire = _changes(patch, kind, now, episodic_ttl_ms)
        reply = await self._update(
            DedupUpdate(
                document=key,
                index=INDEX,
                max_distance=max_distance,
                prefix=keys.memory(ns, ""),
                expected_version=_expected(expected_version),
                exact=exact,
                knn=near,
                vector=b"" if patch.embedding is None else blob(patch.embedding),
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
                document=keys.memory(ns, memory_id), expected_version=_expected(expected_version)
            )
        )
        if expected_version is not None and version != expected_version:
            raise VersionMismatch(version)
        return bool(deleted)

    async def search(
        self, ns: str, vector: Vector, flt: MemoryFilter, *, limit: int, max_distance: float
    ) -> list[Match]:
        """The `limit` live memories nearest to `vector` among those `flt`
        keeps, nearest first, none farther than `max_distance` (`recall` in
        vector mode)."""
        wanted = recall.Recall(RecallMode.VECTOR, limit, max_distance, vector=vector)
        return await self.recall(ns, flt, wanted)

    async def count_words(self, ns: str, flt: MemoryFilter, found: tuple[str, ...]) -> WordCounts:
        """How many memories of `ns` `flt` keeps, and how many of them hold
        each of `found` (a query's words; `recall.count_words`): one
        pipelined round trip."""
        return await recall.count_words(self._command, ns, _now_ms(), flt, found)

    async def recall(
        self,
        ns: str,
        flt: MemoryFilter,
        wanted: recall.Recall,
        embedding: Awaitable[Vector] | None = None,
    ) -> list[Match]:
        """The best `wanted.limit` live memories among those `flt` keeps,
        found as `wanted.mode` says (`store/recall.py`), best first, near
        `wanted.vector` (else the `embedding` being computed, in hybrid
        mode). One `FT.SEARCH`; in hybrid mode one while the query is
        embedded, then two pipelined; the memories' JSON is parsed in one
        go."""
        now = _now_ms()

        def knn_search(vector: Vector) -> tuple[Sequence[Arg], bytes]:
            command = search_command(ns, now, flt, vector, wanted.candidates, paths=wanted.paths)
            return command, blob(vector)

        hits = await recall.find(
            self._command,
            ns,
            now,
            flt,
            wanted,
            knn_search=knn_search if wanted.by_vector else None,
            embedding=embedding,
        )
        memories = _parse_all([hit.document for hit in hits])
        return [
            Match(memory, hit.distance, hit.keyword_score, hit.score)
            for memory, hit in zip(memories, hits, strict=True)
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

        One `FT.AGGREGATE` (`memory_listing`) finds their keys; their
        documents are then read with `JSON.MGET`s, `LIST_FIRST_READ` at
        first, then as many as the bytes read so far say fit in what is left
        of `max_bytes`. Reading stops once `max_bytes` of JSON are read, so
        a page of large memories never reads more than about `max_bytes`
        plus one read's worth from Redis (`Listed.cut` then says more may
        follow)."""
        command = list_command(ns, _now_ms(), flt, order, after, count=count)
        reply = await self._command(*command)
        prefix = keys.memory(ns, "").encode()
        found_keys = [
            key
            for row in reply[1:]
            if (key := dict(zip(row[::2], row[1::2], strict=True)).get(_KEY_FIELD, b"")).startswith(
                prefix
            )
        ]
        found: list[bytes] = []
        read = 0
        start, take = 0, LIST_FIRST_READ
        while start < len(found_keys):
            chunk = found_keys[start : start + take]
            start += len(chunk)
            # A document can vanish between the search and its read.
            values = await self._command("JSON.MGET", *chunk, *MEMORY_PATHS)
            found += [value for value in values if value is not None]
            read += sum(len(value) for value in values if value is not None)
            if read >= max_bytes:
                return Listed(_parse_all(found), cut=start < len(found_keys))
            take = max(1, (max_bytes - read) * len(found) // read) if read else len(found_keys)
        return Listed(_parse_all(found), cut=False)

    async def delete_matching(self, ns: str, flt: MemoryFilter) -> int:
        """Deletes every live memory of `ns` that `flt` keeps; returns how many.
        One script call per `DELETE_BATCH` memories."""
        query = filter_query(ns, _now_ms(), flt)
        prefix = keys.memory(ns, "")
        total = 0
        while True:
            found: int
            deleted: int
            found, deleted = await self._delete_batch(
                DeleteMemories(prefix=prefix, index=INDEX, query=query, batch_size=DELETE_BATCH)
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
    vector: Vector,
    limit: int,
    *,
    paths: Sequence[str] = (),
) -> list[Arg]:
    """The `FT.SEARCH` of `LongTermStore.search`: the `limit` memories of
    `ns` that `flt` keeps nearest to `vector`, each with its `$.memory`,
    distance and `paths`."""
    returned = [*MEMORY_PATHS, DISTANCE, *paths]
    return [
        "FT.SEARCH", INDEX, knn(filter_query(ns, now_ms, flt), limit),
        "PARAMS", 2, "v", blob(vector),
        "SORTBY", DISTANCE,
        "RETURN", len(returned), *returned,
        "LIMIT", 0, limit,
        "DIALECT", 3,
    ]  # fmt: skip


def document(
    ns: str, memory_id: str, item: NewMemory, now_ms: int, episodic_ttl_ms: int = EPISODIC_TTL_MS
) -> tuple[Memory, str]:
    """A new memory, and the JSON text of its document (what `create` writes)."""
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
    fields = {
        "memory": _memory_fields(memory),
        "tags": tags(
            ns,
            user_id=item.user_id,
            thread_id=item.thread_id,
            kind=item.kind,
            topics=item.topics,
            text=item.text,
            metadata=item.metadata,
            flags=(Flag.PINNED,) if item.pinned else (),
        ),
        "live_until": expire_ms or NEVER_MS,
        # Never recalled yet: `recalled` counts from the creation.
        "recalled_ms": now_ms,
    }
    # The embedding, formatted apart, goes last: `{...}` becomes `{...,"embedding":[...]}`.
    return memory, f'{_json(fields)[:-1]},"embedding":{vector_json(item.embedding)}}}'


def vector_json(vector: Vector) -> str:
    """A vector as a JSON array of its float32 values, each with 9 significant
    digits: the fewest that always read back as the same float32. A third
    shorter than the float64 reprs of `json.dumps`, formatted in 40% of its
    time (one %-format of the whole array)."""
    values = np.asarray(vector, dtype=np.float32).tolist()
    return _vector_format(len(values)) % tuple(values)


@functools.cache
def _vector_format(dim: int) -> str:
    """The %-format of a JSON array of `dim` float32 values."""
    return "[" + ",".join([_FLOAT32_FORMAT] * dim) + "]"


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
    """The (path, JSON value) writes of a patch, and the expire argument of
    `dedup_update.lua` ('' to keep the expiry)."""
    changes = [("$.memory.update_ms", str(now_ms))]
    if patch.text is not None and patch.embedding is not None:
        changes += [("$.memory.text", _json(patch.text))]
        changes += [("$.tags.text", _json(text_hash(patch.text)))]
        changes.append(("$.embedding", vector_json(patch.embedding)))
    if patch.topics is not None:
        changes += [("$.memory.topics", _json(patch.topics))]
        changes += [("$.tags.topics", _json(topic_tags(patch.topics)))]
    if patch.metadata is not None:
        changes.append(("$.memory.metadata", _json(dict(patch.metadata))))
        changes.append(("$.tags.meta", _json(metadata_tags(patch.metadata))))
    if patch.event_ms is not Keep.KEEP:
        changes.append(("$.memory.event_ms", _json(patch.event_ms)))
    if patch.ttl_ms is None:
        return changes, ""
    expire_ms = _expire_ms(kind, patch.ttl_ms, now_ms, episodic_ttl_ms)
    changes += [("$.memory.expire_ms", str(expire_ms))]
    changes += [("$.live_until", str(expire_ms or NEVER_MS))]
    return changes, str(expire_ms)


def _memory_fields(memory: Memory) -> dict[str, Any]:
    """The `memory` object of a document."""
    return {
        "id": memory.id,
        "namespace": memory.namespace,
        "user_id": memory.user_id,
        "kind": memory.kind.value,
        "thread_id": memory.thread_id,
        "topics": memory.topics,
        "text": memory.text,
        "metadata": memory.metadata,
        "create_ms": memory.create_ms,
        "update_ms": memory.update_ms,
        "expire_ms": memory.expire_ms,
        "hit_count": memory.hit_count,
        "version": memory.version,
        "source": memory.source.value,
        "source_event_ids": memory.source_event_ids,
        "start_ms": memory.start_ms,
        "end_ms": memory.end_ms,
        "pinned": memory.pinned,
        "access_count": memory.access_count,
        "last_access_ms": memory.last_access_ms,
        "merged_ids": memory.merged_ids,
        "superseded_by": memory.superseded_by,
        "event_ms": memory.event_ms,
    }


def _memory(value: Mapping[str, Any]) -> Memory:
    """A memory from the parsed `memory` object of its document."""
    return Memory(
        id=value["id"],
        namespace=value["namespace"],
        user_id=value["user_id"],
        kind=_KINDS[value["kind"]],
        thread_id=value["thread_id"],
        topics=tuple(value["topics"]),
        text=value["text"],
        metadata=value["metadata"],
        create_ms=value["create_ms"],
        update_ms=value["update_ms"],
        expire_ms=value["expire_ms"],
        hit_count=value["hit_count"],
        # Documents written before versions have none: their first version.
        version=value.get("version", 1),
        # Documents written before sources have none of these fields.
        source=Source(value.get("source", "")),
        source_event_ids=tuple(value.get("source_event_ids", ())),
        start_ms=value.get("start_ms", 0),
        end_ms=value.get("end_ms", 0),
        # Documents written before lifecycles have none of these fields.
        pinned=value.get("pinned", False),
        access_count=value.get("access_count", 0),
        last_access_ms=value.get("last_access_ms", 0),
        merged_ids=tuple(value.get("merged_ids", ())),
        superseded_by=value.get("superseded_by", ""),
        # Documents written before event times have none.
        event_ms=value.get("event_ms"),
    )


def parse_memory(found: bytes) -> Memory:
    """A memory from the reply of a `JSON.GET` of `$.memory` (a list of one)."""
    [value] = json.loads(found)
    return _memory(value)


def _parse_all(found: Sequence[bytes]) -> list[Memory]:
    """Memories from the `$.memory` values (each a list of one) of a search
    or listing, parsed in one go."""
    return [_memory(value) for [value] in json.loads(b"[" + b",".join(found) + b"]")]


def _created(memory: Memory, reply: Sequence[bytes]) -> Created:
    """The outcome of a create item from its reply of `dedup_insert.lua`:
    `memory` itself when written, else the memory it repeats; for an item
    done before, the recorded outcome with its memory as it is now."""
    if len(reply) == 1:
        return Created(created=True, memory_id=memory.id, memory=memory, distance=0.0)
    distance = _distance(reply[1])
    if len(reply) == 3:
        repeated = parse_memory(reply[2])
        return Created(created=False, memory_id=repeated.id, memory=repeated, distance=distance)
    return Created(
        created=reply[0] == b"written",
        memory_id=reply[3].decode(),
        memory=parse_memory(reply[2]) if reply[2] else None,
        distance=distance,
        replayed=True,
    )


def _expected(version: int | None) -> str:
    """An expected version as the scripts take it: '' for any."""
    return "" if version is None else str(version)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def blob(vector: Vector) -> bytes:
    """A vector as a query parameter: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def _distance(value: bytes) -> float:
    """A distance from Redis, float32 rounding of 0 snapped to 0."""
    return recall.snapped(float(value))
