"""Long-term memories as storage schema 2 stored them (the versions before
schema 3, such as commit fafb991): one JSON document per memory at the same
key, indexed by `memory_index.LEGACY_INDEX`. The tests of the conversion to
Hashes write them with `document` (what that version's
`long_term.document()` wrote, with the `$.seq` its script added) and index
them with `create_legacy_index` (that version's `FT.CREATE`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from memrpc.store import keys
from memrpc.store.memory_index import (
    LEGACY_INDEX,
    Flag,
    Kind,
    metadata_digest,
    scope_tag,
    text_digest,
    topic_tags,
)
from memrpc.store.redis_mux import RedisMux

# `live_until` of a memory that never expires.
NEVER_MS = 10**15
# How many hex digits of their digests schema 2's text and metadata TAGs held.
TAG_DIGITS = 32


def legacy_index_command(dim: int) -> list[str | int]:
    """The `FT.CREATE` of the schema-2 index, for vectors of `dim` values."""
    tag_fields = [("ns", "ns"), ("scope", "scope"), ("user", "user"), ("thread", "thread")]
    tag_fields += [("kind", "kind"), ("topics[*]", "topics"), ("text", "text")]
    schema: list[str | int] = []
    for path, name in tag_fields:
        schema += [f"$.tags.{path}", "AS", name, "TAG"]
    schema += ["$.memory.create_ms", "AS", "create_ms", "NUMERIC"]
    schema += ["$.live_until", "AS", "live_until", "NUMERIC"]
    schema += ["$.embedding", "AS", "embedding", "VECTOR", "HNSW", 6]
    schema += ["TYPE", "FLOAT32", "DIM", dim, "DISTANCE_METRIC", "COSINE"]
    schema += ["$.memory.id", "AS", "id", "TAG", "SORTABLE", "NOINDEX"]
    schema += ["$.memory.hit_count", "AS", "hit_count", "NUMERIC", "SORTABLE"]
    schema += ["$.memory.text", "AS", "body", "TEXT"]
    schema += ["$.tags.flags[*]", "AS", "flags", "TAG"]
    schema += ["$.recalled_ms", "AS", "recalled", "NUMERIC"]
    schema += ["$.memory.event_ms", "AS", "event_ms", "NUMERIC"]
    schema += ["$.tags.meta[*]", "AS", "meta", "TAG"]
    head: list[str | int] = ["FT.CREATE", LEGACY_INDEX, "ON", "JSON"]
    return [*head, "PREFIX", 1, keys.MEMORY_PREFIX, "SCHEMA", *schema]


def document(
    ns: str,
    memory_id: str,
    vector: npt.NDArray[np.float32],
    *,
    text: str,
    now_ms: int,
    seq: int | None = None,
    user_id: str = "",
    kind: Kind = Kind.SEMANTIC,
    thread_id: str = "",
    topics: Sequence[str] = (),
    metadata: Mapping[str, str] | None = None,
    expire_ms: int = 0,
    source: str = "client",
    pinned: bool = False,
    event_ms: int | None = None,
    **later: Any,
) -> dict[str, Any]:
    """The document of a memory as the old version wrote it, `now_ms` its
    creation (`seq` None: written before `$.seq`); `later` sets fields of
    its `memory` as later writes left them (`update_ms`, `version`,
    `hit_count`, `access_count`, ...)."""
    metadata = dict(metadata or {})
    flags = [Flag.PINNED.value] if pinned else []
    memory = {
        "id": memory_id, "namespace": ns, "user_id": user_id, "kind": kind.value,
        "thread_id": thread_id, "topics": list(topics), "text": text, "metadata": metadata,
        "create_ms": now_ms, "update_ms": now_ms, "expire_ms": expire_ms, "hit_count": 1,
        "version": 1, "source": source, "source_event_ids": [], "start_ms": 0, "end_ms": 0,
        "pinned": pinned, "access_count": 0, "last_access_ms": 0, "merged_ids": [],
        "superseded_by": "", "event_ms": event_ms,
    }  # fmt: skip
    memory.update(later)
    tags = {
        "ns": keys.tag_value(ns), "scope": scope_tag(ns, user_id, kind),
        "user": keys.tag_value(user_id), "thread": keys.tag_value(thread_id),
        "kind": keys.tag_value(kind), "topics": topic_tags(topics),
        "text": text_digest(text)[:TAG_DIGITS], "flags": flags,
        "meta": [metadata_digest(key, value)[:TAG_DIGITS] for key, value in metadata.items()],
    }  # fmt: skip
    found = {} if seq is None else {"seq": seq}
    found |= {"memory": memory, "tags": tags, "live_until": expire_ms or NEVER_MS}
    return found | {"recalled_ms": now_ms, "embedding": vector}


def dumps(found: Mapping[str, Any]) -> str:
    """A document as the old version's JSON text: compact, each embedding
    value with the 9 significant digits of a float32."""
    values = np.asarray(found["embedding"], dtype=np.float32).tolist()
    fields = {name: value for name, value in found.items() if name != "embedding"}
    text = json.dumps(fields, ensure_ascii=False, separators=(",", ":"))
    embedding = ",".join(f"{value:.9g}" for value in values)
    return f'{text[:-1]},"embedding":[{embedding}]}}'


async def write(redis: RedisMux, key: str, found: Mapping[str, Any]) -> None:
    """Writes a document as the old version did, with its expiry."""
    await redis.execute("JSON.SET", key, "$", dumps(found))
    if found["memory"]["expire_ms"]:
        await redis.execute("PEXPIREAT", key, found["memory"]["expire_ms"])
