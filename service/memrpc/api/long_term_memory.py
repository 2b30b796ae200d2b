"""The LongTermMemory service: memories on `store.long_term`, embedded by the
server's model unless the caller sends vectors.

Writes are safe to retry: `CreateMemories` with a `request_id`
(`api/request_ids.py`; the store does each item once), `UpdateMemory` and
`DeleteMemory` with an `expected_version` (checked in the store's script,
in the same step as the write). `UpdateMemory` reads its mask with
`api/update_masks.py`, like every `Update*` method.

What a request leaves unset (a create's or update's dedup distance, an
episodic memory's lifetime, a search's most distance) follows its
namespace's settings, else the server's defaults (`namespace_cache`)."""

from __future__ import annotations

import dataclasses

import numpy as np

from memrpc.api import memory_fields, page_tokens, paging, request_ids, resources, update_masks
from memrpc.api.memory_search import MemorySearch, matches
from memrpc.limits import DEDUP_DISTANCE, MAX_TOPICS, MEMORY_PAGE_SIZE, MEMORY_TTL_S, Limits
from memrpc.namespace_defaults import DefaultsSource, NamespaceDefaults
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, Context, translate_errors
from memrpc.store.long_term import (
    KIND_DEFAULT_TTL,
    Created,
    DuplicateMemoryError,
    Keep,
    LongTermStore,
    Memory,
    MemoryIdTaken,
    MemoryPatch,
    NewMemory,
    Vector,
)
from memrpc.store.memory_index import MemoryFilter
from memrpc.store.memory_listing import Order, Position, position
from memrpc.store.request_ids import RequestIdReused
from memrpc.store.versions import VersionMismatch
from memrpc.v1 import long_term_memory_pb2 as pb
from memrpc.v1 import long_term_memory_pb2_grpc

# UpdateMemory paths that can change (all of them under `*`), and those
# that never can.
UPDATABLE = ("text", "topics", "metadata", "embedding", "ttl", "pinned", "event_time")
IMMUTABLE = ("user_id", "kind", "thread_id")
# An embedding still to compute from the text.
_TO_EMBED: Vector = np.empty(0, dtype=np.float32)

_ORDER = {
    pb.MEMORY_ORDER_UNSPECIFIED: Order.NEWEST,
    pb.MEMORY_ORDER_NEWEST_FIRST: Order.NEWEST,
    pb.MEMORY_ORDER_MOST_HIT: Order.MOST_HIT,
}
# The method page tokens of ListMemories are made for.
_LIST = "ListMemories"


def _ttl_ms(item: pb.MemoryInput, field: str) -> int:
    """A lifetime in ms: 0 for never, `KIND_DEFAULT_TTL` when unset."""
    if not item.HasField("ttl"):
        return KIND_DEFAULT_TTL
    if item.ttl.seconds == 0 and item.ttl.nanos == 0:
        return 0
    return round(validate.seconds(item.ttl, field, MEMORY_TTL_S) * 1000)


def _event_ms(item: pb.MemoryInput, field: str) -> int | None:
    """An item's event time in ms; None when unset."""
    if not item.HasField("event_time"):
        return None
    return memory_fields.time_ms(item.event_time, field)


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def _dedup_distance(
    request: pb.CreateMemoriesRequest | pb.UpdateMemoryRequest, defaults: NamespaceDefaults
) -> float:
    if not request.HasField("dedup_max_distance"):
        return defaults.dedup_distance
    return validate.distance(request.dedup_max_distance, "dedup_max_distance", DEDUP_DISTANCE)


def _dedup(request: pb.CreateMemoriesRequest | pb.UpdateMemoryRequest) -> bool:
    """Whether a write deduplicates (`dedup_mode`); off refuses a
    `dedup_max_distance`, which it would ignore."""
    if request.dedup_mode != pb.DEDUP_MODE_OFF:
        return True
    if request.HasField("dedup_max_distance"):
        raise ApiError.invalid(
            "dedup_max_distance", "must be unset with dedup_mode DEDUP_MODE_OFF (no dedup at all)"
        )
    return False


def _client_ids(request: pb.CreateMemoriesRequest) -> None:
    """Each item's `memory_id` is a client's id, and none is asked twice."""
    seen: dict[str, int] = {}
    for i, item in enumerate(request.memories):
        field = f"memories[{i}].memory_id"
        memory_id = validate.client_memory_id(item.memory_id, field)
        if memory_id in seen:
            raise ApiError.invalid(field, f"repeats memories[{seen[memory_id]}].memory_id")
        if memory_id:
            seen[memory_id] = i


def _new_memory(item: pb.MemoryInput, field: str, dim: int, limits: Limits) -> NewMemory:
    """A checked item; its embedding is `_TO_EMBED` when the caller sent none."""
    embedding = (
        memory_fields.vector(item.embedding, f"{field}.embedding", dim)
        if item.embedding
        else _TO_EMBED
    )
    return NewMemory(
        text=memory_fields.text(item.text, f"{field}.text", limits),
        embedding=embedding,
        user_id=validate.user_id(item.user_id, f"{field}.user_id"),
        kind=memory_fields.kind(item.kind),
        thread_id=validate.thread_id(item.thread_id, f"{field}.thread_id", required=False),
        topics=memory_fields.strings(
            item.topics, f"{field}.topics", memory_fields.topic, MAX_TOPICS
        ),
        metadata=validate.metadata(
            item.metadata, f"{field}.metadata", max_bytes=limits.max_metadata_bytes
        ),
        ttl_ms=_ttl_ms(item, f"{field}.ttl"),
        pinned=item.pinned,
        event_ms=_event_ms(item, f"{field}.event_time"),
        memory_id=item.memory_id,
    )


def _paths(request: pb.UpdateMemoryRequest) -> frozenset[str]:
    """The paths an update writes (`api/update_masks.py`): an immutable
    field named, or set under an empty mask, is refused."""
    if request.memory.memory_id:
        raise ApiError.invalid(
            "memory.memory_id", "is read by CreateMemories only: memory_id names the memory"
        )
    for path in request.update_mask.paths:
        if path in IMMUTABLE:
            raise ApiError.invalid("update_mask", f"{path} cannot change: create a new memory")
    paths = update_masks.paths_to_write(
        request.update_mask,
        allowed=UPDATABLE,
        full_replace=UPDATABLE,
        populated=update_masks.populated(request.memory),
    )
    if not paths:
        raise ApiError.invalid(
            "memory",
            f"sets no field and update_mask is empty: set or name some of {', '.join(UPDATABLE)}",
        )
    if "embedding" in paths and "text" not in paths:
        raise ApiError.invalid("update_mask", "embedding can change only with text")
    return paths


def _version_mismatch(memory_id: str, expected: int | None, mismatch: VersionMismatch) -> ApiError:
    """`ABORTED`: the memory is not at the `expected` version (only a
    write that expected one fails so)."""
    return ApiError.version_mismatch(f"memory {memory_id}", expected or 0, mismatch.current)


def _patch(new: pb.MemoryInput, paths: frozenset[str], dim: int, limits: Limits) -> MemoryPatch:
    """The checked changes that `paths` name; a new text's embedding is
    `_TO_EMBED` when the caller sent none."""
    text: str | None = None
    embedding: Vector | None = None
    if "text" in paths:
        text = memory_fields.text(new.text, "memory.text", limits)
        embedding = _TO_EMBED
        if "embedding" in paths and new.embedding:
            embedding = memory_fields.vector(new.embedding, "memory.embedding", dim)
    return MemoryPatch(
        text=text,
        embedding=embedding,
        topics=memory_fields.strings(new.topics, "memory.topics", memory_fields.topic, MAX_TOPICS)
        if "topics" in paths
        else None,
        metadata=validate.metadata(
            new.metadata, "memory.metadata", max_bytes=limits.max_metadata_bytes
        )
        if "metadata" in paths
        else None,
        ttl_ms=_ttl_ms(new, "memory.ttl") if "ttl" in paths else None,
        pinned=new.pinned if "pinned" in paths else None,
        event_ms=_event_ms(new, "memory.event_time") if "event_time" in paths else Keep.KEEP,
    )


def _add_result(response: pb.CreateMemoriesResponse, created: Created) -> None:
    """Adds an item's result; a memory deleted since a replayed create comes
    back with only its id."""
    outcome = pb.CREATE_OUTCOME_CREATED if created.created else pb.CREATE_OUTCOME_DUPLICATE
    result = response.results.add(
        outcome=pb.CREATE_OUTCOME_REPLACED if created.replaced else outcome,
        distance=created.distance,
    )
    if created.memory is None:
        result.memory.id = created.memory_id
    else:
        memory_fields.set_memory(result.memory, created.memory)


def _message(memory: Memory) -> pb.Memory:
    message = pb.Memory()
    memory_fields.set_memory(message, memory)
    return message


def _token_position(order: Order, memory: Memory) -> list[int | str]:
    """What a page token holds of the last memory of a page: its id, for
    `MOST_HIT` its hit count before it, and for a client's id its
    `create_ms` after it (a ULID holds its own)."""
    after = position(memory.id, memory.hit_count, memory.create_ms)
    found: list[int | str] = (
        [memory.id] if after.create_ms is None else [memory.id, after.create_ms]
    )
    return found if order is Order.NEWEST else [memory.hit_count, *found]


def _list_position(request: pb.ListMemoriesRequest, order: Order) -> Position | None:
    """Where the page of `request` starts: after the memory its token holds
    (None for the first page); `PAGE_TOKEN_INVALID` for a token ListMemories
    did not make for this request."""
    found = page_tokens.decode(_LIST, request)
    if found is None:
        return None
    try:
        hit_count = 0 if order is Order.NEWEST else found.pop(0)
        memory_id, *create_ms = found
        if (
            type(hit_count) is not int
            or not isinstance(memory_id, str)
            or any(type(ms) is not int for ms in create_ms)
        ):
            raise TypeError
        return Position(memory_id, hit_count, *create_ms)
    except (TypeError, ValueError):
        raise page_tokens.invalid(_LIST, "its position is not one ListMemories makes") from None


@translate_errors
class LongTermMemoryServicer(long_term_memory_pb2_grpc.LongTermMemoryServicer):
    """Checks requests against `limits`, embeds texts, and calls the store."""

    def __init__(
        self, store: LongTermStore, search: MemorySearch, limits: Limits, defaults: DefaultsSource
    ) -> None:
        self._store = store
        self._search = search
        self._limits = limits
        self._defaults = defaults

    async def CreateMemories(
        self, request: pb.CreateMemoriesRequest, context: Context
    ) -> pb.CreateMemoriesResponse:
        ns = validate.namespace(request.namespace)
        limits = self._limits
        validate.batch(request.memories, "memories", max_items=limits.max_batch_items)
        _client_ids(request)
        dedup = _dedup(request)
        defaults = await self._defaults.defaults(ns)
        max_distance = _dedup_distance(request, defaults)
        request_id = request_ids.parse(request.request_id, request.memories)
        choice = await self._search.choice(ns, writing=True)
        dim = choice.model.embedder.dim
        items = [
            _new_memory(m, f"memories[{i}]", dim, limits) for i, m in enumerate(request.memories)
        ]
        missing = [i for i, item in enumerate(items) if item.embedding is _TO_EMBED]
        if missing:
            texts = [items[i].text for i in missing]
            vectors, others = await self._search.write_vectors(choice, texts)
            for i, vector, other in zip(missing, vectors, others, strict=True):
                items[i] = dataclasses.replace(items[i], embedding=vector, other=other)
        try:
            results = await self._store.create(
                ns,
                items,
                max_distance=max_distance,
                request=request_id,
                episodic_ttl_ms=_ms(defaults.episodic_ttl_s),
                field=choice.model.field,
                dedup=dedup,
                replace=request.replace_existing,
            )
        except RequestIdReused:
            raise request_ids.reused(request.request_id, "in this namespace", "memories") from None
        except MemoryIdTaken as taken:
            field = f"memories[{taken.index}].memory_id"
            raise resources.memory_exists(ns, taken.memory_id, field) from None
        response = pb.CreateMemoriesResponse(replayed=all(c.replayed for c in results))
        for created in results:
            _add_result(response, created)
        return response

    async def SearchMemories(
        self, request: pb.SearchMemoriesRequest, context: Context
    ) -> pb.SearchMemoriesResponse:
        ns = validate.namespace(request.namespace)
        choice = await self._search.choice(ns)
        query = self._search.parse(request, await self._defaults.defaults(ns), choice.model)
        if query.empty:
            raise ApiError.invalid("query", "required: set text or vector")
        vector = await self._search.vector(query)
        return pb.SearchMemoriesResponse(
            matches=matches(await self._search.search(ns, query, vector))
        )

    async def ListMemories(
        self, request: pb.ListMemoriesRequest, context: Context
    ) -> pb.ListMemoriesResponse:
        ns = validate.namespace(request.namespace)
        flt = memory_fields.memory_filter(request.filter, "filter")
        order = _ORDER[request.order]
        size = validate.count(request.page_size, "page_size", MEMORY_PAGE_SIZE)
        after = _list_position(request, order)
        listed = await self._store.list_page(ns, flt, order, after, count=size + 1)
        found = listed.memories
        page = paging.fitting(_message(memory) for memory in found[:size])
        response = pb.ListMemoriesResponse(memories=page)
        if listed.cut or len(found) > len(page):
            position = _token_position(order, found[len(page) - 1])
            response.next_page_token = page_tokens.encode(_LIST, request, position)
        return response

    async def GetMemory(
        self, request: pb.GetMemoryRequest, context: Context
    ) -> pb.GetMemoryResponse:
        ns = validate.namespace(request.namespace)
        memory_id = validate.memory_id(request.memory_id)
        memory = await self._store.get(ns, memory_id)
        if memory is None:
            raise resources.memory_not_found(ns, memory_id)
        response = pb.GetMemoryResponse()
        memory_fields.set_memory(response.memory, memory)
        return response

    async def UpdateMemory(
        self, request: pb.UpdateMemoryRequest, context: Context
    ) -> pb.UpdateMemoryResponse:
        ns = validate.namespace(request.namespace)
        memory_id = validate.memory_id(request.memory_id)
        paths = _paths(request)
        expected = validate.expected_version(request, creates=False)
        dedup = _dedup(request)
        defaults = await self._defaults.defaults(ns)
        max_distance = _dedup_distance(request, defaults)
        choice = await self._search.choice(ns, writing=True)
        patch = _patch(request.memory, paths, choice.model.embedder.dim, self._limits)
        if patch.text is not None and patch.embedding is _TO_EMBED:
            vectors, others = await self._search.write_vectors(choice, [patch.text])
            patch = dataclasses.replace(patch, embedding=vectors[0], other=others[0])
        try:
            memory = await self._store.update(
                ns,
                memory_id,
                patch,
                max_distance=max_distance,
                expected_version=expected,
                episodic_ttl_ms=_ms(defaults.episodic_ttl_s),
                field=choice.model.field,
                dedup=dedup,
            )
        except DuplicateMemoryError as exc:
            raise resources.memory_duplicate(ns, memory_id, exc.memory_id, exc.distance) from exc
        except VersionMismatch as mismatch:
            raise _version_mismatch(memory_id, expected, mismatch) from None
        if memory is None:
            raise resources.memory_not_found(ns, memory_id)
        response = pb.UpdateMemoryResponse()
        memory_fields.set_memory(response.memory, memory)
        return response

    async def DeleteMemory(
        self, request: pb.DeleteMemoryRequest, context: Context
    ) -> pb.DeleteMemoryResponse:
        ns = validate.namespace(request.namespace)
        memory_id = validate.memory_id(request.memory_id)
        expected = validate.expected_version(request, creates=False)
        try:
            deleted = await self._store.delete(ns, memory_id, expected_version=expected)
        except VersionMismatch as mismatch:
            raise _version_mismatch(memory_id, expected, mismatch) from None
        if not deleted:
            raise resources.memory_not_found(ns, memory_id)
        return pb.DeleteMemoryResponse()

    async def DeleteMemories(
        self, request: pb.DeleteMemoriesRequest, context: Context
    ) -> pb.DeleteMemoriesResponse:
        ns = validate.namespace(request.namespace)
        flt = memory_fields.memory_filter(request.filter, "filter")
        if dataclasses.replace(flt, include_superseded=False) == MemoryFilter():
            raise ApiError.invalid(
                "filter", "required: set at least one field (kinds set to both kinds deletes all)"
            )
        return pb.DeleteMemoriesResponse(deleted_count=await self._store.delete_matching(ns, flt))
