"""Long-term memories: one Redis JSON document per memory, recalled through
the Redis Search index of `memory_index`.

The document at `keys.memory(ns, id)`:

| field                                  | holds                                  |
|----------------------------------------|----------------------------------------|
| `id`, `namespace`, `user_id`, `kind`,  | strings ('' for no user or thread)     |
| `thread_id`, `text`                    |                                        |
| `topics`, `metadata`                   | list of strings, object of strings     |
| `create_ms`, `update_ms`               | ms since the epoch                     |
| `expire_ms`                            | when the memory (and key) expires, or 0 |
| `hit_count`                            | 1 + the duplicates merged into it      |
| `embedding`                            | the vector, float32 values             |
| `tags`                                 | what the index filters on (`tags()`)   |
| `live_until`                           | `expire_ms`, or `NEVER_MS` for never   |

Creates and updates deduplicate and write in `lua/dedup_insert.lua`, one
script call per request; deletes by filter run `lua/delete_memories.lua`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from redis.exceptions import ResponseError

from memrpc.store import keys, scripts
from memrpc.store.memory_index import (
    DISTANCE,
    INDEX,
    NEVER_MS,
    Kind,
    MemoryFilter,
    create_command,
    dedup_queries,
    filter_query,
    knn,
    tags,
    text_hash,
    topic_tags,
)
from memrpc.store.redis_mux import RedisMux
from memrpc.store.ulid import new_ulid

Vector = npt.NDArray[np.float32]

_DAY_MS = 86_400_000
# The lifetime of a memory created without one (0: never expires).
DEFAULT_TTL_MS = {Kind.EPISODIC: 7 * _DAY_MS, Kind.SEMANTIC: 0}
# A `ttl_ms` asking for the kind's default lifetime.
KIND_DEFAULT_TTL = -1
# Distances up to this are float32 rounding of 0.
_ROUNDING = 1e-6
# How many memories one call of `delete_memories.lua` deletes at most.
DELETE_BATCH = 256
# The document paths of a `Memory`: everything but the embedding and the tags.
MEMORY_PATHS = tuple(
    f"$.{name}"
    for name in (
        "id",
        "namespace",
        "user_id",
        "kind",
        "thread_id",
        "topics",
        "text",
        "metadata",
        "create_ms",
        "update_ms",
        "expire_ms",
        "hit_count",
    )
)


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


@dataclass(frozen=True)
class MemoryPatch:
    """New values for a stored memory; None leaves a field as it is. `text`
    and `embedding` change together; `ttl_ms` as in `NewMemory`, from now."""

    text: str | None = None
    embedding: Vector | None = None
    topics: tuple[str, ...] | None = None
    metadata: Mapping[str, str] | None = None
    ttl_ms: int | None = None


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


@dataclass(frozen=True)
class Created:
    """The outcome of one item of a create: `created`, or else `memory` is the
    existing memory it duplicates, at `distance` (0 for the same text)."""

    created: bool
    memory: Memory
    distance: float


@dataclass(frozen=True)
class Match:
    """A memory found by a search, at its distance from the query."""

    memory: Memory
    distance: float


class DuplicateMemoryError(Exception):
    """An update would repeat another memory of the same scope."""

    def __init__(self, memory_id: str) -> None:
        super().__init__(f"the memory repeats memory {memory_id}")
        self.memory_id = memory_id


class LongTermStore:
    """Long-term memories of every namespace, in Redis."""

    def __init__(self, redis: RedisMux, *, dim: int) -> None:
        self._redis = redis
        self.dim = dim
        self._write = scripts.load(redis, "dedup_insert")
        self._delete_batch = scripts.load(redis, "delete_memories")

    async def _command(self, *args: str | int | bytes) -> Any:
        """One Redis command."""
        return await self._redis.execute(*args)

    async def ensure_index(self) -> None:
        """Creates the index unless it exists."""
        try:
            await self._command(*create_command(self.dim))
        except ResponseError as exc:
            if "already exists" not in str(exc):
                raise

    async def create(
        self, ns: str, items: Sequence[NewMemory], *, max_distance: float
    ) -> list[Created]:
        """Creates memories, in order, skipping those that repeat a live memory
        of the same user and kind: same normalised text, or (when
        `max_distance` > 0) within that cosine distance. A repeated memory
        gains a hit instead. One script call."""
        now = _now_ms()
        doc_keys: list[str] = []
        args = _script_head(ns, max_distance)
        for item in items:
            memory_id = new_ulid(now)
            doc_keys.append(keys.memory(ns, memory_id))
            doc = _document(ns, memory_id, item, now)
            exact, near = dedup_queries(
                ns, now, item.user_id, item.kind, item.text, nearest=max_distance > 0
            )
            args += ["create", exact, near, _blob(item.embedding), doc["expire_ms"]]
            args += [1, "$", _json(doc)]
        replies = await self._write(keys=doc_keys, args=args)
        return [
            Created(created=outcome == b"written", memory=_parse(found), distance=_distance(d))
            for outcome, d, found in replies
        ]

    async def get(self, ns: str, memory_id: str) -> Memory | None:
        """A live memory, or None. One `JSON.GET`."""
        found = await self._command("JSON.GET", keys.memory(ns, memory_id), *MEMORY_PATHS)
        return None if found is None else _parse(found)

    async def update(
        self, ns: str, memory_id: str, patch: MemoryPatch, *, max_distance: float
    ) -> Memory | None:
        """Applies `patch` to a memory and returns it, or None when it does not
        exist. A new text that repeats another memory of the same scope (as in
        `create`) raises `DuplicateMemoryError` and changes nothing. Two round
        trips: the memory's scope, then one script call."""
        if (patch.text is None) != (patch.embedding is None):
            raise ValueError("text and embedding change together")
        key = keys.memory(ns, memory_id)
        found = await self._command("JSON.GET", key, "$.user_id", "$.kind")
        if found is None:
            return None
        scope = json.loads(found)
        user_id, kind = scope["$.user_id"][0], Kind(scope["$.kind"][0])
        now = _now_ms()
        exact = near = ""
        if patch.text is not None:
            exact, near = dedup_queries(
                ns, now, user_id, kind, patch.text, nearest=max_distance > 0
            )
        blob = b"" if patch.embedding is None else _blob(patch.embedding)
        changes, expire = _changes(patch, kind, now)
        args = [*_script_head(ns, max_distance), "update", exact, near, blob, expire, len(changes)]
        for path, value in changes:
            args += [path, _json(value)]
        [reply] = await self._write(keys=[key], args=args)
        if reply[0] == b"missing":
            return None
        memory = _parse(reply[2])
        if reply[0] == b"duplicate":
            raise DuplicateMemoryError(memory.id)
        return memory

    async def delete(self, ns: str, memory_id: str) -> bool:
        """Deletes a memory; False when it did not exist. One `DEL`."""
        return bool(await self._command("DEL", keys.memory(ns, memory_id)))

    async def search(
        self, ns: str, vector: Vector, flt: MemoryFilter, *, limit: int, max_distance: float
    ) -> list[Match]:
        """The `limit` live memories nearest to `vector` among those `flt`
        keeps, nearest first, none farther than `max_distance`. One
        `FT.SEARCH`."""
        reply = await self._command(
            "FT.SEARCH", INDEX, knn(filter_query(ns, _now_ms(), flt), limit),
            "PARAMS", 2, "v", _blob(vector),
            "SORTBY", DISTANCE,
            "RETURN", len(MEMORY_PATHS) + 1, *MEMORY_PATHS, DISTANCE,
            "LIMIT", 0, limit,
            "DIALECT", 3,
        )  # fmt: skip
        prefix = keys.memory(ns, "").encode()
        matches = []
        for key, fields in _rows(reply):
            distance = _distance(fields.pop(DISTANCE.encode()))
            # A document can vanish between the match and the load of its fields.
            if key.startswith(prefix) and distance <= max_distance and b"$.id" in fields:
                memory = _parse(
                    {path.decode(): json.loads(value) for path, value in fields.items()}
                )
                matches.append(Match(memory, distance))
        return matches

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
                keys=[prefix], args=[INDEX, query, DELETE_BATCH]
            )
            total += deleted
            # A full batch may leave more; a batch that deleted nothing (its
            # memories vanished meanwhile) must not loop for ever.
            if found < DELETE_BATCH or deleted == 0:
                return total


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _expire_ms(kind: Kind, ttl_ms: int, now_ms: int) -> int:
    """When a memory of `kind` living `ttl_ms` from now expires; 0 for never."""
    ttl = DEFAULT_TTL_MS[kind] if ttl_ms == KIND_DEFAULT_TTL else ttl_ms
    return now_ms + ttl if ttl else 0


def _changes(patch: MemoryPatch, kind: Kind, now_ms: int) -> tuple[list[tuple[str, Any]], str]:
    """The (path, value) writes of a patch, and the expire argument of
    `dedup_insert.lua` ('' to keep the expiry)."""
    changes: list[tuple[str, Any]] = [("$.update_ms", now_ms)]
    if patch.text is not None and patch.embedding is not None:
        changes += [("$.text", patch.text), ("$.tags.text", text_hash(patch.text))]
        changes.append(("$.embedding", patch.embedding.tolist()))
    if patch.topics is not None:
        changes += [("$.topics", patch.topics), ("$.tags.topics", topic_tags(patch.topics))]
    if patch.metadata is not None:
        changes.append(("$.metadata", dict(patch.metadata)))
    if patch.ttl_ms is None:
        return changes, ""
    expire_ms = _expire_ms(kind, patch.ttl_ms, now_ms)
    changes += [("$.expire_ms", expire_ms), ("$.live_until", expire_ms or NEVER_MS)]
    return changes, str(expire_ms)


def _document(ns: str, memory_id: str, item: NewMemory, now_ms: int) -> dict[str, Any]:
    expire_ms = _expire_ms(item.kind, item.ttl_ms, now_ms)
    return {
        "id": memory_id,
        "namespace": ns,
        "user_id": item.user_id,
        "kind": item.kind.value,
        "thread_id": item.thread_id,
        "topics": item.topics,
        "text": item.text,
        "metadata": dict(item.metadata),
        "create_ms": now_ms,
        "update_ms": now_ms,
        "expire_ms": expire_ms,
        "hit_count": 1,
        "embedding": item.embedding.tolist(),
        "tags": tags(
            ns,
            user_id=item.user_id,
            thread_id=item.thread_id,
            kind=item.kind,
            topics=item.topics,
            text=item.text,
        ),
        "live_until": expire_ms or NEVER_MS,
    }


def _script_head(ns: str, max_distance: float) -> list[str | int | bytes]:
    """The arguments of `dedup_insert.lua` before its items."""
    return [INDEX, repr(max_distance), keys.memory(ns, ""), len(MEMORY_PATHS), *MEMORY_PATHS]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _blob(vector: Vector) -> bytes:
    """A vector as a query parameter: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def _distance(value: bytes) -> float:
    """A distance from Redis, with float32 rounding (up to ~1e-7 either way
    for a vector and itself) snapped to 0."""
    distance = float(value)
    return distance if distance > _ROUNDING else 0.0


def _parse(found: bytes | Mapping[str, Sequence[Any]]) -> Memory:
    """A memory from the values of `MEMORY_PATHS`, each a list of matches (a
    `JSON.GET` of several paths, or its JSON text). Search replies leave
    out empty lists, so `topics` may be missing."""
    matches = json.loads(found) if isinstance(found, bytes) else found
    value = {path.removeprefix("$."): hits[0] for path, hits in matches.items() if hits}
    return Memory(
        id=value["id"],
        namespace=value["namespace"],
        user_id=value["user_id"],
        kind=Kind(value["kind"]),
        thread_id=value["thread_id"],
        topics=tuple(value.get("topics", ())),
        text=value["text"],
        metadata=value["metadata"],
        create_ms=int(value["create_ms"]),
        update_ms=int(value["update_ms"]),
        expire_ms=int(value["expire_ms"]),
        hit_count=int(value["hit_count"]),
    )


def _rows(reply: Any) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """(key, returned fields) of each document of an `FT.SEARCH` reply, in
    RESP3 (a map) or RESP2 (a flat array)."""
    if isinstance(reply, dict):
        return [(row[b"id"], dict(row.get(b"extra_attributes", {}))) for row in reply[b"results"]]
    return [
        (key, dict(zip(fields[::2], fields[1::2], strict=True)))
        for key, fields in zip(reply[1::2], reply[2::2], strict=True)
    ]
