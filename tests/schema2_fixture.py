"""The schema-2 fixture (`tests/data/schema2/`): long-term memories as memrpc
stored them before storage schema 3, one JSON document per memory, indexed
by `memrpc:idx:mem:v2` — what an upgrade finds — and how a test loads them.

| file             | holds                                                       |
|------------------|-------------------------------------------------------------|
| `memories.jsonl` | each `memrpc:mem:*` key: `key`, `document` (`JSON.GET key`,  |
|                  | parsed), `pttl` and `pexpiretime` (-1: no expiry)            |
| `keys.json`      | `index`: the `FT.CREATE` of the v2 index; the other keys the |
|                  | old server wrote that an upgrade must keep: `strings`        |
|                  | (`memrpc:memseq:*`), `hashes` (`memrpc:nsset:*`,             |
|                  | `memrpc:model`), `sets` (`memrpc:namespaces`)                |
| `api.jsonl`      | what `GetMemory` returned for each memory (`Memory` in       |
|                  | protobuf JSON), to compare a migrated memory with            |

`tests/make_schema2_fixture.py` made it, from a server of the version before
schema 3; `load` writes it into a Redis.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memrpc.store.redis_mux import RedisMux

DIR = Path(__file__).resolve().parent / "data" / "schema2"
MEMORIES = "memories.jsonl"
KEYS = "keys.json"
API = "api.jsonl"


@dataclass(frozen=True)
class Fixture:
    """The fixture as read: the memory documents, the other keys, and the
    API's view of each memory (protobuf JSON, by id)."""

    memories: list[dict[str, Any]]
    keys: dict[str, Any]
    api: dict[str, dict[str, Any]]


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def read(directory: Path = DIR) -> Fixture:
    """The fixture in `directory`."""
    api = {memory["id"]: memory for memory in _lines(directory / API)}
    keys = json.loads((directory / KEYS).read_text())
    return Fixture(_lines(directory / MEMORIES), keys, api)


async def load(redis: RedisMux, fixture: Fixture) -> None:
    """Writes the fixture into `redis` as the old version left it: the v2
    index first (so that it indexes each document as it is written), the
    documents with their expiry (the same time as then: they are written
    years before it), then the other keys."""
    await redis.execute(*fixture.keys["index"])
    for memory in fixture.memories:
        key = memory["key"]
        await redis.execute("JSON.SET", key, "$", json.dumps(memory["document"]))
        if memory["pexpiretime"] > 0:
            await redis.execute("PEXPIREAT", key, memory["pexpiretime"])
    for key, value in fixture.keys["strings"].items():
        await redis.execute("SET", key, value)
    for key, value in fixture.keys["hashes"].items():
        await redis.execute("HSET", key, *[part for pair in value.items() for part in pair])
    for key, members in fixture.keys["sets"].items():
        await redis.execute("SADD", key, *members)
