"""The stored form of a long-term memory: one Redis Hash per memory, at
`keys.memory(ns, id)` (storage schema 4, `memory_index.INDEX`).

Each field is short-named and absent when it holds its default, so a memory
pays only for what it has; user strings the index filters on are stored
once, as their `keys.tag_value` (hex), which a read decodes. The one table
of fields:

| field | holds                                        | absent means | indexed as           |
|-------|----------------------------------------------|--------------|----------------------|
| `id`  | the memory's id (ULID)                       |              | `id` TAG SORTABLE    |
| `n`   | the namespace, `tag_value`                   |              | `ns` TAG             |
| `s`   | `memory_index.scope_tag`                     |              | `scope` TAG          |
| `u`   | the user id, `tag_value` (`none`: no user)   |              | `user` TAG           |
| `th`  | the thread id, `tag_value`                   |              | `thread` TAG         |
| `k`   | the kind, `tag_value`                        |              | `kind` TAG           |
| `tp`  | the topics, each `tag_value`, `,` between    | no topic     | `topics` TAG         |
| `x`   | `memory_index.text_hash` of the text         |              | `text` TAG           |
| `t`   | the text                                     |              | `body` TEXT          |
| `md`  | the metadata, a JSON object                  | no metadata  |                      |
| `mt`  | `memory_index.metadata_tag` of each entry    | no metadata  | `meta` TAG           |
| `c`   | when it was created (ms)                     |              | `create_ms` NUMERIC  |
| `um`  | when it was last changed (ms)                | `c`          |                      |
| `e`   | when it (and the key) expires (ms)           | never        | `live_until` NUMERIC |
| `v`   | the embedding, little-endian `VectorType`    |              | `embedding` VECTOR   |
| `h`   | 1 + the duplicates merged into it            |              | `hit_count` NUMERIC  |
| `vr`  | 1 + its updates                              | 1            |                      |
| `f`   | its `memory_index.Flag`s, `,` between        | none         | `flags` TAG          |
| `r`   | the last search that returned it (ms)        | none yet:    | `recalled` NUMERIC   |
|       |                                              | its creation |                      |
|       |                                              | counts       |                      |
| `ev`  | when the remembered thing happened (ms)      | unknown      | `event_ms` NUMERIC   |
| `q`   | its number in the namespace's order of       | written      |                      |
|       | writing (`keys.memory_sequence`)             | before it    |                      |
| `src` | who wrote it (`long_term.Source`)            | unrecorded   |                      |
| `se`  | a formed memory's turn event ids, JSON list  | none         |                      |
| `sm`  | a formed memory's first turn (ms)            | none (0)     |                      |
| `em`  | a formed memory's last turn (ms)             | none (0)     |                      |
| `p`   | `1`: pinned                                  | not pinned   |                      |
| `ac`  | how many searches returned it                | 0            |                      |
| `la`  | when the last did (ms)                       | never (0)    |                      |
| `mg`  | the ids merged into it, JSON list            | none         |                      |
| `sb`  | the id of the memory superseding it          | none         |                      |

The Lua scripts (`lua/lib/memory.lua`) write the same names. `fields` builds
the Hash of a new memory, `decode` reads one back (from `HGETALL`, or from
the `RETURN` of a search, which names `READ_FIELDS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from memrpc import limits

# The storage schema these fields make (`store/storage_schema.py`): 2 was a
# JSON document per memory (`memory_index.LEGACY_INDEX`).
SCHEMA = 4

ID = "id"
NAMESPACE = "n"
SCOPE = "s"
USER = "u"
THREAD = "th"
KIND = "k"
TOPICS = "tp"
TEXT_HASH = "x"
TEXT = "t"
METADATA = "md"
METADATA_TAGS = "mt"
CREATE_MS = "c"
UPDATE_MS = "um"
EXPIRE_MS = "e"
VECTOR = "v"
HIT_COUNT = "h"
VERSION = "vr"
FLAGS = "f"
RECALLED_MS = "r"
EVENT_MS = "ev"
SEQ = "q"
SOURCE = "src"
SOURCE_EVENT_IDS = "se"
START_MS = "sm"
END_MS = "em"
PINNED = "p"
ACCESS_COUNT = "ac"
LAST_ACCESS_MS = "la"
MERGED_IDS = "mg"
SUPERSEDED_BY = "sb"
# The separator of the list-valued TAG fields (`tp`, `f`, `mt`): their items
# are hex or plain words, which never hold it.
TAG_SEPARATOR = ","
# The empty user or thread, as `keys.tag_value` writes it.
_NONE = "none"

# What a read returns of a memory: every field but the vector and the
# index-only ones (`s`, `x`, `mt`, `f`, `r`, `q`).
READ_FIELDS = (
    ID, NAMESPACE, USER, THREAD, KIND, TOPICS, TEXT, METADATA, CREATE_MS, UPDATE_MS,
    EXPIRE_MS, HIT_COUNT, VERSION, EVENT_MS, SOURCE, SOURCE_EVENT_IDS, START_MS, END_MS,
    PINNED, ACCESS_COUNT, LAST_ACCESS_MS, MERGED_IDS, SUPERSEDED_BY,
)  # fmt: skip


class VectorType(StrEnum):
    """How the stored vectors hold each value: the index's vector `TYPE`."""

    FLOAT32 = "FLOAT32"
    FLOAT16 = "FLOAT16"

    @property
    def dtype(self) -> np.dtype[Any]:
        """The little-endian numpy type of a value."""
        return np.dtype("<f4" if self is VectorType.FLOAT32 else "<f2")

    def blob(self, vector: npt.NDArray[np.float32]) -> bytes:
        """A vector as stored and as a query's parameter."""
        return np.asarray(vector, dtype=self.dtype).tobytes()


# The vectors' type unless a server is told otherwise (`limits`).
DEFAULT_VECTOR_TYPE = VectorType(limits.DEFAULT_VECTOR_TYPE)


def unhex(value: str) -> str:
    """A `keys.tag_value` read back: the value it was made from."""
    return "" if value == _NONE else bytes.fromhex(value).decode()


def joined(values: Sequence[str]) -> str:
    """A list-valued TAG field's value."""
    return TAG_SEPARATOR.join(values)


def split(value: str | None) -> list[str]:
    """A list-valued TAG field's items; none when it is absent or empty."""
    return value.split(TAG_SEPARATOR) if value else []


def decode(found: Mapping[str, str]) -> dict[str, Any]:
    """The memory a Hash holds (its fields and values, decoded), as the
    object `long_term.Memory` is built from: every `READ_FIELDS` field under
    its `long_term.Memory` name, defaults filled in."""
    create_ms = int(found[CREATE_MS])
    event = found.get(EVENT_MS)
    return {
        "id": found[ID],
        "namespace": unhex(found[NAMESPACE]),
        "user_id": unhex(found[USER]),
        "kind": unhex(found[KIND]),
        "thread_id": unhex(found[THREAD]),
        "topics": [unhex(topic) for topic in split(found.get(TOPICS))],
        "text": found[TEXT],
        "metadata": json.loads(found[METADATA]) if METADATA in found else {},
        "create_ms": create_ms,
        "update_ms": int(found.get(UPDATE_MS, create_ms)),
        "expire_ms": int(found.get(EXPIRE_MS, 0)),
        "hit_count": int(found[HIT_COUNT]),
        "version": int(found.get(VERSION, 1)),
        "source": found.get(SOURCE, ""),
        "source_event_ids": json.loads(found.get(SOURCE_EVENT_IDS, "[]")),
        "start_ms": int(found.get(START_MS, 0)),
        "end_ms": int(found.get(END_MS, 0)),
        "pinned": found.get(PINNED) == "1",
        "access_count": int(found.get(ACCESS_COUNT, 0)),
        "last_access_ms": int(found.get(LAST_ACCESS_MS, 0)),
        "merged_ids": json.loads(found.get(MERGED_IDS, "[]")),
        "superseded_by": found.get(SUPERSEDED_BY, ""),
        "event_ms": None if event is None else int(event),
    }
