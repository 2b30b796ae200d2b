"""A LangChain key-value `BaseStore` on memrpc long-term memory (extra
`langchain`): `langchain_core.stores.BaseStore[str, Any]`, for what takes
one (e.g. `CacheBackedEmbeddings`, a parent-document retriever's docstore).

    from memrpc.integrations.langchain_kvstore import MemrpcKeyValueStore

    store = MemrpcKeyValueStore("127.0.0.1:50051", namespace="acme")
    store.mset([("greeting", b"hello"), ("config", {"depth": 2})])
    store.mget(["greeting", "config", "missing"])  # [b"hello", {"depth": 2}, None]

Each key is one memory under a client-chosen id (`kv-` and a digest of the
store's topic and the key), written with dedup off and replace on; its text is the key, its
metadata the key (`key`, up to 4,096 characters), the value (bytes, or any
JSON value) in pieces (`v`, `v.<i>`: up to about 240,000 characters of
JSON, bytes as base64) and its type (`t`: `bytes` or `json`), its topic the
store's (`langchain-kv`): several stores share a namespace apart.
`yield_keys` lists the store's memories (every key read: thousands, not
millions)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Unpack

from langchain_core.stores import BaseStore

from memrpc.integrations._calls import (
    KEEP_SUPERSEDED,
    MAX_METADATA_ENTRIES,
    PINNED,
    Connection,
    Plan,
    Settings,
    digest_id,
    dumps,
    metadata_value,
    value_metadata,
)
from memrpc.integrations._plans import delete_memory, get_memory, list_memories, put_memories
from memrpc.v1 import long_term_memory_pb2 as ltm

# The default topic of the store's memories.
TOPIC = "langchain-kv"
# The prefix of the store's memory ids.
ID_PREFIX = "kv"
# The metadata entries besides the value's (`key`, `t`).
_FIXED_ENTRIES = 2


def memory_id(topic: str, key: str) -> str:
    """The memrpc id of `key` in the store of `topic`."""
    return digest_id(ID_PREFIX, topic, key)


class MemrpcKeyValueStore(BaseStore[str, Any]):
    """Keys and values (bytes or JSON values) as memrpc long-term memories
    of one memrpc `namespace`, tagged with `topic`. See the module's
    docstring."""

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        namespace: str,
        topic: str = TOPIC,
        **settings: Unpack[Settings],
    ) -> None:
        self.connection = Connection(target, namespace=namespace, **settings)
        self.topic = topic

    def mget(self, keys: Sequence[str]) -> list[Any | None]:
        return self.connection.run(self._get(keys))

    async def amget(self, keys: Sequence[str]) -> list[Any | None]:
        return await self.connection.arun(self._get(keys))

    def mset(self, key_value_pairs: Sequence[tuple[str, Any]]) -> None:
        self.connection.run(self._set(key_value_pairs))

    async def amset(self, key_value_pairs: Sequence[tuple[str, Any]]) -> None:
        await self.connection.arun(self._set(key_value_pairs))

    def mdelete(self, keys: Sequence[str]) -> None:
        self.connection.run(self._delete(keys))

    async def amdelete(self, keys: Sequence[str]) -> None:
        await self.connection.arun(self._delete(keys))

    def yield_keys(self, *, prefix: str | None = None) -> Iterator[str]:
        """The store's keys (those starting with `prefix`), newest set first."""
        yield from self.connection.run(self._keys(prefix))

    async def ayield_keys(self, *, prefix: str | None = None) -> AsyncIterator[str]:
        for key in await self.connection.arun(self._keys(prefix)):
            yield key

    def close(self) -> None:
        self.connection.close()

    async def aclose(self) -> None:
        await self.connection.aclose()

    # -- Plans ---------------------------------------------------------------

    def _get(self, keys: Sequence[str]) -> Plan[list[Any | None]]:
        values: list[Any | None] = []
        for key in keys:
            memory = yield from get_memory(self.connection.namespace, memory_id(self.topic, key))
            values.append(
                _value(memory) if memory is not None and self.topic in memory.topics else None
            )
        return values

    def _set(self, pairs: Sequence[tuple[str, Any]]) -> Plan[None]:
        last = dict(pairs)  # the last value of a repeated key wins
        memories = [self._memory(key, value) for key, value in last.items()]
        yield from put_memories(self.connection.namespace, memories)

    def _memory(self, key: str, value: Any) -> ltm.MemoryInput:
        kind, encoded = (
            ("bytes", base64.b64encode(value).decode())
            if isinstance(value, bytes)
            else ("json", value)
        )
        entries = MAX_METADATA_ENTRIES - _FIXED_ENTRIES
        return ltm.MemoryInput(
            pinned=PINNED,
            memory_id=memory_id(self.topic, key),
            text=key if key.strip() else "(a blank key)",
            topics=[self.topic],
            metadata=value_metadata(dumps(encoded), entries=entries) | {"key": key, "t": kind},
        )

    def _delete(self, keys: Sequence[str]) -> Plan[None]:
        for key in keys:
            yield from delete_memory(self.connection.namespace, memory_id(self.topic, key))

    def _keys(self, prefix: str | None) -> Plan[list[str]]:
        flt = ltm.MemoryFilter(include_superseded=KEEP_SUPERSEDED, topics=[self.topic])
        memories = yield from list_memories(self.connection.namespace, flt)
        keys: list[str] = [memory.metadata["key"] for memory in memories]
        return [key for key in keys if key.startswith(prefix or "")]


def _value(memory: ltm.Memory) -> Any:
    value = json.loads(metadata_value(memory.metadata))
    return base64.b64decode(value) if memory.metadata["t"] == "bytes" else value
