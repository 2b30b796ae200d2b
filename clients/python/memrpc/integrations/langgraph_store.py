"""A LangGraph `BaseStore` on memrpc long-term memory (extra `langgraph`).

    from memrpc.integrations.langgraph_store import MemrpcStore

    store = MemrpcStore("127.0.0.1:50051", namespace="acme")
    graph = builder.compile(store=store)

Each item is one memory of the memrpc namespace, under a client-chosen id
(`lg-` and a digest of its namespace and key: keys may hold any
character), written with dedup off and replace on, so a put stores exactly
its value and a put of the same key replaces it. The memory holds:

| where                  | what                                              |
|------------------------|---------------------------------------------------|
| `text`                 | what search embeds: the value as JSON, or the     |
|                        | `index` fields' text (the key when `index=False`) |
| `topics`               | `langgraph-store`: only the store's memories      |
| `pinned`               | true: memrpc's jobs never forget or merge it away |
| `metadata["ns"]`       | the namespace tuple, as JSON                      |
| `metadata["ns.<i>"]`   | its i-th label (namespace prefixes filter on it)  |
| `metadata["key"]`      | the key                                           |
| `metadata["v"]`,       | the value as JSON, in `v` pieces of 4,000         |
| `metadata["v.<i>"]`    | characters (a value of up to ~200 KB)             |
| `metadata["at"]`       | when it was put (ms), the item's `updated_at`     |
| `metadata["ttl"]`      | its time to live in minutes, when it has one      |
| `ttl`                  | that time to live, counted from the put or read   |

What memrpc filters server-side: the namespace prefix (each label
without a `*`, up to 15, as metadata filters) and the store's topic. Value
`filter`s (equality, `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, nested
dicts) are applied here to what memrpc returns: a search without a query
pages through the prefix's items (newest put first) until it has `offset +
limit` matches; a search with a query takes the 100 nearest items by
meaning (memrpc's most) and filters those. `list_namespaces` reads every
item under its prefix. Searches with a query rank by cosine similarity of
memrpc's own embeddings (`SearchItem.score` = 1 - cosine distance).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Unpack

import grpc
from google.protobuf import duration_pb2, field_mask_pb2
from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    MatchCondition,
    NotProvided,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from langgraph.store.base.embed import get_text_at_path, tokenize_path

from memrpc.integrations._calls import (
    KEEP_SUPERSEDED,
    MAX_METADATA_ENTRIES,
    MAX_PAGE,
    MAX_SEARCH,
    PINNED,
    Connection,
    Plan,
    Settings,
    digest_id,
    dumps,
    metadata_value,
    not_found,
    value_metadata,
)
from memrpc.integrations._plans import delete_memory, get_memory, list_memories, put_memories
from memrpc.v1 import long_term_memory_pb2 as ltm

# The topic of the store's memories.
TOPIC = "langgraph-store"
# The prefix of the store's memory ids.
ID_PREFIX = "lg"
# Characters of the text embedded.
MAX_TEXT = 4000
# How many namespace labels a search filters on server-side (memrpc takes
# 16 metadata filters; the rest are checked here).
PUSHED_LABELS = 15
# The metadata entries of an item besides its labels and value
# (`ns`, `key`, `at`, `ttl`).
_FIXED_ENTRIES = 4


def memory_id(namespace: tuple[str, ...], key: str) -> str:
    """The memrpc id of the item `key` of `namespace`."""
    return digest_id(ID_PREFIX, list(namespace), key)


class MemrpcStore(BaseStore):
    """A LangGraph store whose items are memrpc long-term memories of one
    memrpc `namespace` (see the module's docstring for the mapping).

    `index`: the value fields whose text search embeds (LangGraph's path
    syntax, e.g. `["text", "tags[*]"]`); default the whole value as JSON.
    `ttl`: LangGraph's `TTLConfig` (`default_ttl` in minutes,
    `refresh_on_read`); an item's time to live is memrpc's, so an expired
    item is gone for every reader at once (no sweep needed)."""

    supports_ttl = True

    def __init__(
        self,
        target: str = "127.0.0.1:50051",
        *,
        namespace: str,
        index: Sequence[str] | None = None,
        ttl: TTLConfig | None = None,
        **settings: Unpack[Settings],
    ) -> None:
        self.connection = Connection(target, namespace=namespace, **settings)
        self.index_fields = list(index) if index else ["$"]
        self.ttl_config = ttl

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return self.connection.run(self._batch(list(ops)))

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await self.connection.arun(self._batch(list(ops)))

    def close(self) -> None:
        self.connection.close()

    async def aclose(self) -> None:
        await self.connection.aclose()

    # -- Plans ---------------------------------------------------------------

    def _batch(self, ops: list[Op]) -> Plan[list[Result]]:
        """The reads in order, seeing the store as it was before the batch,
        then its puts and deletes, the last one of a key winning (as
        LangGraph's InMemoryStore)."""
        results: list[Result] = []
        puts: dict[tuple[tuple[str, ...], str], PutOp] = {}
        for op in ops:
            if isinstance(op, GetOp):
                results.append((yield from self._get(op)))
            elif isinstance(op, SearchOp):
                results.append((yield from self._search(op)))
            elif isinstance(op, ListNamespacesOp):
                results.append((yield from self._list_namespaces(op)))
            elif isinstance(op, PutOp):
                puts[(op.namespace, op.key)] = op
                results.append(None)
            else:
                raise ValueError(f"unknown operation {op!r}")
        yield from self._apply(list(puts.values()))
        return results

    def _get(self, op: GetOp) -> Plan[Item | None]:
        memory = yield from get_memory(self.connection.namespace, memory_id(op.namespace, op.key))
        if memory is None:
            return None
        if op.refresh_ttl:
            memory = yield from self._refresh(memory)
        return _item(memory)

    def _refresh(self, memory: ltm.Memory) -> Plan[ltm.Memory]:
        """Restarts the time to live of an item that has one (memrpc counts
        a new `ttl` from the update); its `updated_at` stays (`at`)."""
        minutes = memory.metadata.get("ttl")
        if not minutes:
            return memory
        request = ltm.UpdateMemoryRequest(
            namespace=self.connection.namespace,
            memory_id=memory.id,
            memory=ltm.MemoryInput(ttl=_duration(float(minutes))),
            update_mask=field_mask_pb2.FieldMask(paths=["ttl"]),
        )
        try:
            response = yield ("UpdateMemory", request)
        except grpc.RpcError as err:
            if not_found(err):  # expired or deleted meanwhile
                return memory
            raise
        updated: ltm.Memory = response.memory
        return updated

    def _search(self, op: SearchOp) -> Plan[list[SearchItem]]:
        flt = _prefix_filter(op.namespace_prefix)
        wanted = op.offset + op.limit
        found: list[tuple[ltm.Memory, float | None]] = []
        if op.query:
            request = ltm.SearchMemoriesRequest(
                namespace=self.connection.namespace,
                text=op.query,
                filter=flt,
                limit=MAX_SEARCH,
                max_distance=2.0,
                mode=ltm.RECALL_MODE_VECTOR,
            )
            response = yield ("SearchMemories", request)
            for match in response.matches:
                if _keeps(op, match.memory):
                    found.append((match.memory, float(match.score)))
        else:
            # Newest first, a page at a time, until offset + limit are found.
            token = ""
            while len(found) < wanted:
                page = ltm.ListMemoriesRequest(
                    namespace=self.connection.namespace,
                    filter=flt,
                    page_size=MAX_PAGE if op.filter else min(MAX_PAGE, wanted),
                    page_token=token,
                )
                response = yield ("ListMemories", page)
                found += [(m, None) for m in response.memories if _keeps(op, m)]
                token = response.next_page_token
                if not token:
                    break
        items = []
        for memory, score in found[op.offset : wanted]:
            read = (yield from self._refresh(memory)) if op.refresh_ttl else memory
            items.append(_search_item(read, score))
        return items

    def _list_namespaces(self, op: ListNamespacesOp) -> Plan[list[tuple[str, ...]]]:
        prefix: tuple[str, ...] = ()
        for condition in op.match_conditions or ():
            if condition.match_type == "prefix":
                prefix = tuple(condition.path)
        namespaces = set()
        for memory in (yield from list_memories(self.connection.namespace, _prefix_filter(prefix))):
            namespace = _namespace(memory)
            if all(_matches(condition, namespace) for condition in op.match_conditions or ()):
                namespaces.add(namespace if op.max_depth is None else namespace[: op.max_depth])
        return sorted(namespaces)[op.offset : op.offset + op.limit]

    def _apply(self, puts: list[PutOp]) -> Plan[None]:
        """Writes the puts (one CreateMemories per 100, dedup off, replace
        on) and deletes (a DeleteMemory each, a missing item ignored)."""
        writes = [self._memory_input(op) for op in puts if op.value is not None]
        yield from put_memories(self.connection.namespace, writes)
        for op in puts:
            if op.value is None:
                yield from delete_memory(self.connection.namespace, memory_id(op.namespace, op.key))

    def _memory_input(self, op: PutOp) -> ltm.MemoryInput:
        """The memory of a put (see the module's table)."""
        assert op.value is not None
        entries = MAX_METADATA_ENTRIES - _FIXED_ENTRIES - len(op.namespace)
        metadata = value_metadata(dumps(op.value), entries=entries) | {
            "ns": dumps(list(op.namespace)),
            "key": op.key,
            "at": str(int(datetime.now(UTC).timestamp() * 1000)),
        }
        metadata |= {f"ns.{i}": label for i, label in enumerate(op.namespace)}
        ttl = op.ttl
        if isinstance(ttl, NotProvided):
            ttl = (self.ttl_config or {}).get("default_ttl")
        memory = ltm.MemoryInput(
            pinned=PINNED,
            memory_id=memory_id(op.namespace, op.key),
            text=self._text(op) or op.key,
            kind=ltm.MEMORY_KIND_SEMANTIC,
            topics=[TOPIC],
            metadata=metadata,
        )
        if ttl:
            memory.metadata["ttl"] = repr(float(ttl))
            memory.ttl.CopyFrom(_duration(float(ttl)))
        return memory

    def _text(self, op: PutOp) -> str:
        """What search embeds of a put: the `index` fields' text (the
        store's unless the put names its own); '' when `index=False`."""
        if op.index is False:
            return ""
        paths = self.index_fields if op.index is None else list(op.index)
        texts = [text for path in paths for text in get_text_at_path(op.value, _path(path))]
        return "\n".join(text for text in texts if text.strip())[:MAX_TEXT]


def _path(path: str) -> str | list[str]:
    return path if path == "$" else tokenize_path(path)


def _duration(minutes: float) -> duration_pb2.Duration:
    duration = duration_pb2.Duration()
    duration.FromMilliseconds(round(minutes * 60_000))
    return duration


def _prefix_filter(prefix: tuple[str, ...]) -> ltm.MemoryFilter:
    """The store's memories under `prefix` (its labels without a wildcard,
    the first `PUSHED_LABELS`)."""
    return ltm.MemoryFilter(
        include_superseded=KEEP_SUPERSEDED,
        topics=[TOPIC],
        metadata=[
            ltm.MetadataFilter(key=f"ns.{i}", values=[label])
            for i, label in enumerate(prefix[:PUSHED_LABELS])
            if label != "*"
        ],
    )


def _namespace(memory: ltm.Memory) -> tuple[str, ...]:
    return tuple(json.loads(memory.metadata["ns"]))


def _value(memory: ltm.Memory) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(metadata_value(memory.metadata))
    return value


def _fields(memory: ltm.Memory) -> dict[str, Any]:
    """The fields of an `Item` of a memory."""
    return {
        "value": _value(memory),
        "key": memory.metadata["key"],
        "namespace": _namespace(memory),
        "created_at": memory.create_time.ToDatetime(tzinfo=UTC),
        "updated_at": datetime.fromtimestamp(int(memory.metadata["at"]) / 1000, UTC),
    }


def _item(memory: ltm.Memory) -> Item:
    return Item(**_fields(memory))


def _search_item(memory: ltm.Memory, score: float | None) -> SearchItem:
    return SearchItem(**_fields(memory), score=score)


def _keeps(op: SearchOp, memory: ltm.Memory) -> bool:
    """Whether a memory is an item of the search: under its prefix (the
    labels memrpc did not filter) and matching its value filter."""
    namespace = _namespace(memory)
    if not _matches(MatchCondition("prefix", op.namespace_prefix), namespace):
        return False
    value = _value(memory)
    return all(_compare(value.get(key), wanted) for key, wanted in (op.filter or {}).items())


def _matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether `namespace` starts (`prefix`) or ends (`suffix`) with the
    condition's path, `*` matching any label."""
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    if condition.match_type == "prefix":
        labels = namespace[: len(path)]
    elif condition.match_type == "suffix":
        labels = namespace[len(namespace) - len(path) :]
    else:
        raise ValueError(f"unsupported match type {condition.match_type!r}")
    return all(want in ("*", label) for want, label in zip(path, labels, strict=True))


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": lambda a, b: a == b,
    "$ne": lambda a, b: a != b,
    "$gt": lambda a, b: float(a) > float(b),
    "$gte": lambda a, b: float(a) >= float(b),
    "$lt": lambda a, b: float(a) < float(b),
    "$lte": lambda a, b: float(a) <= float(b),
}


def _compare(value: Any, wanted: Any) -> bool:
    """LangGraph's filter semantics: equality, nested dicts field by field,
    lists item by item, and the `$` operators."""
    if isinstance(wanted, dict):
        if any(key.startswith("$") for key in wanted):
            for operator, operand in wanted.items():
                if operator not in _OPERATORS:
                    raise ValueError(f"unsupported filter operator {operator!r}")
                if value is None and operator not in ("$eq", "$ne"):
                    return False
                if not _OPERATORS[operator](value, operand):
                    return False
            return True
        return isinstance(value, dict) and all(
            _compare(value.get(key), item) for key, item in wanted.items()
        )
    if isinstance(wanted, list | tuple):
        return (
            isinstance(value, list | tuple)
            and len(value) == len(wanted)
            and all(_compare(a, b) for a, b in zip(value, wanted, strict=True))
        )
    return bool(value == wanted)
