"""The Redis Search index over long-term memories, and every query on it.

One index, `INDEX`, covers the Hashes of every namespace (keys under
`keys.MEMORY_PREFIX`; their fields are `memory_document`'s). Its schema is
`fields`: a field added to the end of it reaches an index made by an earlier
version as `FT.ALTER ... SCHEMA ADD` (`missing_fields`, `alter_command`),
after which Search indexes the existing memories again in the background;
any other change of schema gets a new versioned name (`LEGACY_INDEX`, the
JSON documents of schema 2, is emptied into this one by
`store/migration.py`; `legacy_query` is a query of this index as that one
reads it). User-supplied values reach memories and queries only as
`keys.tag_value` hex tags, hashes and numbers, so no user string is ever
parsed as query syntax. Every query is built on `filter_query`, which always confines it to
one namespace (the `ns` tag, or the `scope` tag that holds it) and to
memories that have not expired.

| field         | Hash field | type    | holds                                   |
|---------------|------------|---------|-----------------------------------------|
| `ns`          | `n`        | TAG     | the namespace                           |
| `scope`       | `s`        | TAG     | namespace, user and kind together       |
| `user`        | `u`        | TAG     | the user                                |
| `thread`      | `th`       | TAG     | the thread                              |
| `kind`        | `k`        | TAG     | the kind                                |
| `topics`      | `tp`       | TAG     | each topic                              |
| `text`        | `x`        | NUMERIC | `text_hash` of the text                 |
| `create_ms`   | `c`        | NUMERIC | when the memory was created             |
| `live_until`  | `e`        | NUMERIC | when it expires; absent: never          |
| `embedding`   | `v`        | VECTOR  | HNSW, cosine distance, the values of    |
|               |            |         | the index's `VectorType`                |
| `embedding_f` | `v_f`      | VECTOR  | the same, of a model moved to (`f`: its |
|               |            |         | fingerprint's first 12 digits), added   |
|               |            |         | by `model_alter_command`                |
| `id`          | `id`       | TAG     | SORTABLE UNF NOINDEX: the ULID, to sort |
| `hit_count`   | `h`        | NUMERIC | SORTABLE: how often it was written      |
| `body`        | `t`        | TEXT    | the text's words, for keyword recall    |
| `flags`       | `f`        | TAG     | `Flag`s: pinned, superseded             |
| `recalled`    | `r`        | NUMERIC | the last search that returned it;       |
|               |            |         | absent: none yet (`unrecalled_query`)   |
| `event_ms`    | `ev`       | NUMERIC | when the remembered thing happened;     |
|               |            |         | absent when unknown                     |
| `meta`        | `mt`       | TAG     | `metadata_tag` of each metadata entry   |

A memory without a NUMERIC field matches no range of it, and every negated
range (`-@live_until:[-inf now]` keeps the memories that never expire).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from memrpc.limits import HNSW_EF_CONSTRUCTION, HNSW_EF_RUNTIME, HNSW_M
from memrpc.store import keys, memory_document
from memrpc.store.memory_document import VectorType

INDEX = "memrpc:idx:mem:v4"
# The index of storage schema 2 (a JSON document per memory), which
# `store/migration.py` empties into `INDEX` and then drops.
LEGACY_INDEX = "memrpc:idx:mem:v2"
# The name a KNN query gives the distance of each match (also in the Lua scripts).
DISTANCE = "d"
# A text's hash is its normal form's SHA-256, first 13 hex digits: 52 bits,
# which a NUMERIC field (a double) holds exactly. A unique TAG per memory
# would cost ~200 B (its own inverted index); a number costs a few. Two texts
# of one scope share a hash once in ~4.5e15 pairs.
_TEXT_HASH_HEX = 13
# A metadata entry's tag: the first 16 hex digits (64 bits) of a SHA-256.
_METADATA_TAG_HEX = 16
# What schema 2's index (`LEGACY_INDEX`) held instead: 32 hex digits of the
# same SHA-256s, as TAGs, of which these are prefixes (`legacy_query`).
_LEGACY_TEXT = re.compile(r"@text:\[(\d+) \1\]")
_LEGACY_META = re.compile(r"@meta:\{([0-9a-f| ]+)\}")


class Flag(StrEnum):
    """A state of a memory the index filters on (`memory_document.FLAGS`)."""

    # Never forgotten by policy nor merged away.
    PINNED = "pinned"
    # Contradicted by a newer memory; kept as history, left out by default.
    SUPERSEDED = "superseded"


class Kind(StrEnum):
    """The kind of a memory, as stored."""

    EPISODIC = "episodic"
    SEMANTIC = "semantic"


@dataclass(frozen=True)
class MemoryFilter:
    """Which memories to consider: any value of a field (OR), every field
    (AND). An empty field does not filter."""

    user_ids: tuple[str, ...] = ()
    kinds: tuple[Kind, ...] = ()
    thread_ids: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    create_start_ms: int | None = None  # inclusive
    create_end_ms: int | None = None  # exclusive
    include_superseded: bool = False
    event_start_ms: int | None = None  # inclusive
    event_end_ms: int | None = None  # exclusive
    # Each (key, values): metadata[key] is one of values; all of them (AND).
    metadata: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class ModelField:
    """Where the vectors of one embedding model live: the Hash field of each
    memory (`hash`) and the index's VECTOR field over it (`index`)."""

    hash: str
    index: str


# The field of the model that made the first vectors (`fields`); a model
# moved to later gets its own (`model_field`, `store/reembed.py`).
ORIGINAL_FIELD = ModelField(memory_document.VECTOR, "embedding")
# How many hex digits of a model's fingerprint name its field.
_MODEL_FIELD_HEX = 12


def model_field(fingerprint: str) -> ModelField:
    """The field of the vectors of the model of `fingerprint`, when a move
    to it adds one to the index (`v_<f>`, `embedding_<f>`: f its first
    `_MODEL_FIELD_HEX` hex digits)."""
    suffix = fingerprint[:_MODEL_FIELD_HEX]
    return ModelField(f"{ORIGINAL_FIELD.hash}_{suffix}", f"{ORIGINAL_FIELD.index}_{suffix}")


def field_of_hash(hash_field: str) -> ModelField:
    """The `ModelField` whose Hash field is `hash_field` (as the model
    record holds it)."""
    if hash_field == ORIGINAL_FIELD.hash:
        return ORIGINAL_FIELD
    return model_field(hash_field.removeprefix(f"{ORIGINAL_FIELD.hash}_"))


def vector_field_args(field: ModelField, dim: int, vector_type: VectorType) -> list[str | int]:
    """The `SCHEMA` arguments of the VECTOR field `field` (HNSW, cosine) of
    vectors of `dim` values of `vector_type`: the same for every model's.
    `INDEXMISSING`: the re-embed job finds the memories lacking a model's
    vector, or holding it, with `ismissing` (`store/reembed.py`); the list
    of memories lacking the field is empty but during a move."""
    vector: list[str | int] = [field.hash, "AS", field.index, "VECTOR", "HNSW", 12]
    vector += ["TYPE", vector_type.value, "DIM", dim, "DISTANCE_METRIC", "COSINE"]
    vector += ["M", HNSW_M, "EF_CONSTRUCTION", HNSW_EF_CONSTRUCTION, "EF_RUNTIME", HNSW_EF_RUNTIME]
    return [*vector, "INDEXMISSING"]


def fields(
    dim: int, vector_type: VectorType, *, cluster: bool = False
) -> list[tuple[str, list[str | int]]]:
    """The index's fields, each as its name and its `SCHEMA` arguments, for
    vectors of `dim` values of `vector_type`. New fields go at the end (an
    older index gets them by `alter_command`). A Redis Cluster primary's
    index (`cluster`) also keeps (`SORTABLE`) the values searches sort or
    group by, `user`, `create_ms` and `recalled`: Search cannot read them
    from the Hashes there (`store/memory_indexes.py`)."""
    doc = memory_document
    kept: list[str | int] = ["SORTABLE"] if cluster else []
    # UNF: a sortable TAG of a Hash is kept lowercased else.
    tags = {"user": [*kept, "UNF"] if cluster else []}
    tag_fields = [(doc.NAMESPACE, "ns"), (doc.SCOPE, "scope"), (doc.USER, "user")]
    tag_fields += [(doc.THREAD, "thread"), (doc.KIND, "kind")]
    schema: list[tuple[str, list[str | int]]] = [
        (name, [field, "AS", name, "TAG", *tags.get(name, [])]) for field, name in tag_fields
    ]
    separated = ["SEPARATOR", doc.TAG_SEPARATOR]
    schema.append(("topics", [doc.TOPICS, "AS", "topics", "TAG", *separated]))
    schema.append(("text", [doc.TEXT_HASH, "AS", "text", "NUMERIC"]))
    schema.append(("create_ms", [doc.CREATE_MS, "AS", "create_ms", "NUMERIC", *kept]))
    schema.append(("live_until", [doc.EXPIRE_MS, "AS", "live_until", "NUMERIC"]))
    schema.append((ORIGINAL_FIELD.index, vector_field_args(ORIGINAL_FIELD, dim, vector_type)))
    # UNF: sorted as written.
    schema.append(("id", [doc.ID, "AS", "id", "TAG", "SORTABLE", "UNF", "NOINDEX"]))
    schema.append(("hit_count", [doc.HIT_COUNT, "AS", "hit_count", "NUMERIC", "SORTABLE"]))
    schema.append(("body", [doc.TEXT, "AS", "body", "TEXT"]))
    schema.append(("flags", [doc.FLAGS, "AS", "flags", "TAG", *separated]))
    schema.append(("recalled", [doc.RECALLED_MS, "AS", "recalled", "NUMERIC", *kept]))
    schema.append(("event_ms", [doc.EVENT_MS, "AS", "event_ms", "NUMERIC"]))
    schema.append(("meta", [doc.METADATA_TAGS, "AS", "meta", "TAG", *separated]))
    return schema


def is_node_index(name: str) -> bool:
    """Whether the index `name` is one primary's of a Redis Cluster (a
    tagged name: `store/memory_indexes.py`), not one Redis's `INDEX`."""
    return name != INDEX


def create_command(dim: int, vector_type: VectorType, name: str = INDEX) -> list[str | int]:
    """The `FT.CREATE` command of the index, for vectors of `dim` values of
    `vector_type`, named `name` (a primary's own on a Redis Cluster:
    `store/memory_indexes.py`). `NOOFFSETS`: no query asks for words' positions (phrases,
    `SLOP`), which would cost every memory ~130 B; `NOFIELDS`: `body` is the
    one TEXT field, so no word needs to say which field holds it (~35 B)."""
    cluster = is_node_index(name)
    schema = [arg for _, args in fields(dim, vector_type, cluster=cluster) for arg in args]
    return [
        "FT.CREATE", name, "ON", "HASH", "PREFIX", 1, keys.MEMORY_PREFIX, "NOOFFSETS",
        "NOFIELDS", "SCHEMA", *schema,
    ]  # fmt: skip


def info_command(name: str = INDEX) -> list[str]:
    """The `FT.INFO` command of the index `name`, whose reply
    `missing_fields` and `indexing` read."""
    return ["FT.INFO", name]


def indexing(info: Sequence[Any]) -> bool:
    """Whether Search is still reading the memories already there into an
    index (made, or altered, since), from its `FT.INFO` reply: its
    `indexing` flag."""
    return bool(int(info[info.index(b"indexing") + 1]))


def missing_fields(dim: int, vector_type: VectorType, info: Sequence[Any]) -> list[str]:
    """The fields of the schema that an existing index lacks, from its
    `FT.INFO` reply (RESP2: a flat list of names and values; `attributes` a
    list of flat lists, each holding `attribute` then the field's name, and
    flags without values). Fields it has beyond them (the vector fields
    of models moved to, `model_field`) are not missing nor in the way."""
    present = indexed_fields(info)
    return [name for name, _ in fields(dim, vector_type) if name not in present]


def vector_type_of(info: Sequence[Any]) -> VectorType:
    """The `TYPE` of the `embedding` field of an index, from its `FT.INFO`
    reply (read as `missing_fields` reads it: the field's flat list holds
    `data_type` then the type)."""
    attributes = info[info.index(b"attributes") + 1]
    for field in attributes:
        if field[field.index(b"attribute") + 1] == b"embedding":
            return VectorType(field[field.index(b"data_type") + 1].decode())
    raise ValueError("the index has no embedding field")


def alter_command(
    dim: int, vector_type: VectorType, field: str, name: str = INDEX
) -> list[str | int]:
    """The `FT.ALTER` command that adds `field` to the existing index `name`."""
    return _alter(name, dict(fields(dim, vector_type, cluster=is_node_index(name)))[field])


def model_alter_command(
    field: ModelField, dim: int, vector_type: VectorType, name: str = INDEX
) -> list[str | int]:
    """The `FT.ALTER` command that adds the vector field of a model moved to
    (`model_field`) to the index `name`."""
    return _alter(name, vector_field_args(field, dim, vector_type))


def _alter(name: str, args: list[str | int]) -> list[str | int]:
    return ["FT.ALTER", name, "SCHEMA", "ADD", *args]


def indexed_fields(info: Sequence[Any]) -> set[str]:
    """The names of an index's fields, from its `FT.INFO` reply (as
    `missing_fields` reads it)."""
    attributes = info[info.index(b"attributes") + 1]
    return {field[field.index(b"attribute") + 1].decode() for field in attributes}


def text_digest(text: str) -> str:
    """The SHA-256 (hex) of a text normalised (NFKC, case-folded, white space
    collapsed and stripped): what `text_hash` is made of."""
    normal = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(normal.encode()).hexdigest()


def text_hash(text: str) -> int:
    """The exact-duplicate key of a text: its `text_digest`'s first
    `_TEXT_HASH_HEX` digits, a number below 2**52."""
    return int(text_digest(text)[:_TEXT_HASH_HEX], 16)


def text_query(hashes: Iterable[int]) -> str:
    """The query part of the memories whose `text_hash` is one of `hashes`."""
    return " | ".join(f"@text:[{value} {value}]" for value in sorted(set(hashes)))


def scope_tag(ns: str, user_id: str, kind: Kind) -> str:
    """The tag of a namespace, user and kind together: the scope of the
    duplicates of a memory. Its parts are hex or `none`, joined by `x`
    (neither), so no two scopes share a tag."""
    return "x".join((keys.tag_value(ns), keys.tag_value(user_id), keys.tag_value(kind)))


def topic_tags(topics: Iterable[str]) -> list[str]:
    """The indexed tags of a memory's topics."""
    return [keys.tag_value(topic) for topic in topics]


def metadata_digest(key: str, value: str) -> str:
    """The SHA-256 (hex) of one metadata entry's key and value (each
    `keys.tag_value`, so that no two entries share one): what
    `metadata_tag` is made of."""
    entry = f"{keys.tag_value(key)}x{keys.tag_value(value)}"
    return hashlib.sha256(entry.encode()).hexdigest()


def metadata_tag(key: str, value: str) -> str:
    """The indexed tag of one metadata entry: its `metadata_digest`'s first
    `_METADATA_TAG_HEX` digits, of a fixed length however long the value."""
    return metadata_digest(key, value)[:_METADATA_TAG_HEX]


def metadata_tags(metadata: Mapping[str, str]) -> list[str]:
    """The indexed tags of a memory's metadata."""
    return [metadata_tag(key, value) for key, value in metadata.items()]


def index_fields(
    ns: str,
    *,
    user_id: str,
    thread_id: str,
    kind: Kind,
    topics: Sequence[str],
    text: str,
    metadata: Mapping[str, str],
    flags: Sequence[Flag] = (),
) -> dict[str, str]:
    """The Hash fields of a memory that the index filters on (the list
    fields absent when empty)."""
    doc = memory_document
    found = {
        doc.NAMESPACE: keys.tag_value(ns),
        doc.SCOPE: scope_tag(ns, user_id, kind),
        doc.USER: keys.tag_value(user_id),
        doc.THREAD: keys.tag_value(thread_id),
        doc.KIND: keys.tag_value(kind),
        doc.TOPICS: doc.joined(topic_tags(topics)),
        doc.TEXT_HASH: str(text_hash(text)),
        doc.FLAGS: doc.joined([flag.value for flag in flags]),
        doc.METADATA_TAGS: doc.joined(metadata_tags(metadata)),
    }
    return {name: value for name, value in found.items() if value}


def _any_of(field: str, values: Iterable[str]) -> str:
    return _any_tag(field, (keys.tag_value(value) for value in values))


def _any_tag(field: str, tokens: Iterable[str]) -> str:
    # Tag tokens are hex or `none`: nothing in them needs escaping.
    return f"@{field}:{{{' | '.join(tokens)}}}"


def _range(field: str, start_ms: int | None, end_ms: int | None) -> str:
    """The query part of `start_ms` (inclusive) to `end_ms` (exclusive) of a
    NUMERIC field; '' when both are None."""
    if start_ms is None and end_ms is None:
        return ""
    low = "-inf" if start_ms is None else str(start_ms)
    high = "+inf" if end_ms is None else f"({end_ms}"
    return f"@{field}:[{low} {high}]"


def filter_query(ns: str, now_ms: int, flt: MemoryFilter) -> str:
    """The query of the live memories of namespace `ns` that `flt` keeps.

    One user and one kind are the one `scope` tag, which Redis Search reads
    far faster than the intersection of three tags. Live: not expired by
    `now_ms`, as the complement of the few memories that have (cheaper than
    the range of every memory that has not)."""
    if len(flt.user_ids) == 1 and len(flt.kinds) == 1:
        parts = [f"@scope:{{{scope_tag(ns, flt.user_ids[0], flt.kinds[0])}}}"]
        fields = [("thread", flt.thread_ids), ("topics", flt.topics)]
    else:
        parts = [_any_of("ns", [ns])]
        fields = [("user", flt.user_ids), ("kind", flt.kinds)]
        fields += [("thread", flt.thread_ids), ("topics", flt.topics)]
    parts.append(f"-@live_until:[-inf {now_ms}]")
    for field, values in fields:
        if values:
            parts.append(_any_of(field, values))
    parts.append(_range("create_ms", flt.create_start_ms, flt.create_end_ms))
    parts.append(_range("event_ms", flt.event_start_ms, flt.event_end_ms))
    for key, values in flt.metadata:
        parts.append(_any_tag("meta", (metadata_tag(key, value) for value in values)))
    if not flt.include_superseded:
        parts.append(f"-@flags:{{{Flag.SUPERSEDED}}}")
    return " ".join(part for part in parts if part)


def unrecalled_query(before_ms: int) -> str:
    """The part of a query that keeps the memories no search has returned
    since `before_ms` (exclusive), created before it: by `recalled`, or by
    `create_ms` for those no search returned yet."""
    return f"@create_ms:[-inf ({before_ms}] -@recalled:[{before_ms} +inf]"


def unpinned_query() -> str:
    """The part of a query that leaves out pinned memories."""
    return f"-@flags:{{{Flag.PINNED}}}"


def knn(query: str, k: int, field: ModelField, *, ef_runtime: int | None = None) -> str:
    """The `k` nearest neighbours of the vector parameter `$v` in the vector
    field `field` among the documents `query` matches (a document without
    that field is none), each with its distance as `DISTANCE`; HNSW looks
    at `ef_runtime` candidates (None: the index's, `HNSW_EF_RUNTIME`)."""
    ef = "" if ef_runtime is None else f" EF_RUNTIME {ef_runtime}"
    return f"({query})=>[KNN {k} @{field.index} $v{ef} AS {DISTANCE}]"


@dataclass(frozen=True)
class DedupQueries:
    """The queries that find the duplicates of a memory: `exact`, of its
    text; `legacy_exact`, the same of `LEGACY_INDEX` (`legacy_query`); `knn`,
    of its nearest neighbours ('' when only the text counts)."""

    exact: str
    legacy_exact: str
    knn: str


def dedup_queries(
    ns: str, now_ms: int, user_id: str, kind: Kind, text: str, *, nearest: ModelField | None
) -> DedupQueries:
    """The queries that find the duplicates of a memory: same namespace, user
    and kind; the nearest in the vector field `nearest` (None: only the
    text counts). Two neighbours, so that a memory can skip itself."""
    scope = filter_query(ns, now_ms, MemoryFilter(user_ids=(user_id,), kinds=(kind,)))
    exact = f"{scope} {text_query([text_hash(text)])}"
    near = "" if nearest is None else knn(scope, 2, nearest)
    return DedupQueries(exact, legacy_query(exact), near)


def legacy_query(query: str) -> str:
    """A query of `INDEX` as `LEGACY_INDEX` reads it: its text hashes and
    metadata tags as prefixes of schema 2's longer TAGs (a prefix that more
    than one text shares is as rare as a shared hash)."""
    query = _LEGACY_TEXT.sub(lambda found: f"@text:{{{int(found[1]):0{_TEXT_HASH_HEX}x}*}}", query)
    return _LEGACY_META.sub(
        lambda found: "@meta:{" + " | ".join(f"{tag}*" for tag in found[1].split(" | ")) + "}",
        query,
    )
