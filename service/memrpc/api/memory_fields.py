"""Long-term memory fields in requests and responses, shared by every RPC
that takes or returns memories (`LongTermMemory`, and
`WorkingMemory.GetContext`'s search): the checks of what a request sends
(kinds, texts, topics, filters, vectors) and the messages a response holds
(`Memory`, `MemoryMatch`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
from google.protobuf import timestamp_pb2

from memrpc.api.convert import RECALL_MODES, set_timestamp, timestamp_ms
from memrpc.limits import (
    MAX_FILTER_VALUES,
    MAX_METADATA_FILTERS,
    MAX_METADATA_KEY_CHARS,
    MAX_TOPIC_CHARS,
    Limits,
)
from memrpc.namespace_defaults import RecallMode
from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError
from memrpc.store.long_term import Match, Memory, Source, Vector
from memrpc.store.memory_index import Kind, MemoryFilter
from memrpc.v1 import long_term_memory_pb2 as pb

# The range of a valid Timestamp: years 1 to 9999.
_MIN_SECONDS = -62_135_596_800
_MAX_SECONDS = 253_402_300_799

_KIND_IN = {
    pb.MEMORY_KIND_UNSPECIFIED: Kind.SEMANTIC,
    pb.MEMORY_KIND_EPISODIC: Kind.EPISODIC,
    pb.MEMORY_KIND_SEMANTIC: Kind.SEMANTIC,
}
_KIND_OUT = {Kind.EPISODIC: pb.MEMORY_KIND_EPISODIC, Kind.SEMANTIC: pb.MEMORY_KIND_SEMANTIC}
_SOURCE_OUT = {
    Source.UNSPECIFIED: pb.MEMORY_SOURCE_UNSPECIFIED,
    Source.CLIENT: pb.MEMORY_SOURCE_CLIENT,
    Source.FORMATION: pb.MEMORY_SOURCE_FORMATION,
    Source.EXTRACTION: pb.MEMORY_SOURCE_EXTRACTION,
}


def kind(value: pb.MemoryKind.ValueType) -> Kind:
    """A known kind (unknown ones are refused as the request decodes:
    `validate.known_enums`)."""
    return _KIND_IN[value]


def recall_mode(value: pb.RecallMode.ValueType) -> RecallMode:
    """A set, known recall mode (unknown ones are refused as the request
    decodes)."""
    return RECALL_MODES[value]


def text(value: str, field: str, limits: Limits) -> str:
    """A memory's text or a query text: 1 to `--max-text-chars` characters."""
    return validate.text(value, field, max_chars=limits.max_text_chars, required=True)


def topic(value: str, field: str) -> str:
    return validate.printable(value, field, max_chars=MAX_TOPIC_CHARS, required=True)


def _filter_id(value: str, field: str) -> str:
    """A user or thread id of a filter; '' matches memories without one."""
    return validate.printable(value, field, required=False)


def strings(
    values: Sequence[str], field: str, check: Callable[[str, str], str], max_items: int
) -> tuple[str, ...]:
    """Checked values without repeats; errors name the value's index."""
    unique = validate.each_unique(values, field, max_items=max_items)
    for i, value in enumerate(values):
        check(value, f"{field}[{i}]")
    return tuple(unique)


def vector(values: Sequence[float], field: str, dim: int) -> Vector:
    """A caller's vector, checked and scaled to unit length."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (dim,):
        raise ApiError.invalid(field, f"must have exactly {dim} values")
    if not np.isfinite(array).all():
        raise ApiError.invalid(field, "must contain only finite numbers")
    norm = np.linalg.norm(array)
    if norm == 0:
        raise ApiError.invalid(field, "must not be all zeros")
    return (array / norm).astype(np.float32)


def time_ms(value: timestamp_pb2.Timestamp, field: str) -> int:
    """A timestamp of a request in ms: years 1 to 9999."""
    if not (_MIN_SECONDS <= value.seconds <= _MAX_SECONDS and 0 <= value.nanos < 1_000_000_000):
        raise ApiError.invalid(field, "must be a valid timestamp (years 1 to 9999)")
    return timestamp_ms(value)


_TimeField = Literal["create_time_start", "create_time_end", "event_time_start", "event_time_end"]


def _optional_time_ms(message: pb.MemoryFilter, name: _TimeField, field: str) -> int | None:
    """A filter's timestamp field `name` in ms; None when unset."""
    if not message.HasField(name):
        return None
    return time_ms(getattr(message, name), f"{field}.{name}")


def _metadata_filters(
    values: Sequence[pb.MetadataFilter], field: str
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Checked metadata filters: each a key of a metadata entry and 1 to
    `MAX_FILTER_VALUES` values; at most `MAX_METADATA_FILTERS` of them."""
    if len(values) > MAX_METADATA_FILTERS:
        raise ApiError.invalid(
            field, f"must have at most {MAX_METADATA_FILTERS} items, not {len(values)}"
        )
    checked = []
    for i, item in enumerate(values):
        key = validate.printable(
            item.key, f"{field}[{i}].key", max_chars=MAX_METADATA_KEY_CHARS, required=True
        )
        if not item.values:
            raise ApiError.invalid(f"{field}[{i}].values", "required: at least one value")
        found = strings(
            item.values, f"{field}[{i}].values", validate.metadata_value, MAX_FILTER_VALUES
        )
        checked.append((key, found))
    return tuple(checked)


def memory_filter(value: pb.MemoryFilter, field: str) -> MemoryFilter:
    """A checked `MemoryFilter`."""
    kinds = (kind(k) for k in value.kinds)
    return MemoryFilter(
        user_ids=strings(value.user_ids, f"{field}.user_ids", _filter_id, MAX_FILTER_VALUES),
        kinds=tuple(dict.fromkeys(kinds)),
        thread_ids=strings(value.thread_ids, f"{field}.thread_ids", _filter_id, MAX_FILTER_VALUES),
        topics=strings(value.topics, f"{field}.topics", topic, MAX_FILTER_VALUES),
        create_start_ms=_optional_time_ms(value, "create_time_start", field),
        create_end_ms=_optional_time_ms(value, "create_time_end", field),
        include_superseded=value.include_superseded,
        event_start_ms=_optional_time_ms(value, "event_time_start", field),
        event_end_ms=_optional_time_ms(value, "event_time_end", field),
        metadata=_metadata_filters(value.metadata, f"{field}.metadata"),
    )


def set_memory(message: pb.Memory, memory: Memory) -> None:
    """Fills an empty message in place (building one and copying it into its
    parent message would cost more than twice as much)."""
    message.id = memory.id
    message.namespace = memory.namespace
    message.user_id = memory.user_id
    message.kind = _KIND_OUT[memory.kind]
    message.thread_id = memory.thread_id
    message.topics.extend(memory.topics)
    message.text = memory.text
    if memory.metadata:
        message.metadata.update(memory.metadata)
    set_timestamp(message.create_time, memory.create_ms)
    set_timestamp(message.update_time, memory.update_ms)
    if memory.expire_ms:
        set_timestamp(message.expire_time, memory.expire_ms)
    message.hit_count = memory.hit_count
    message.version = memory.version
    message.source = _SOURCE_OUT[memory.source]
    if memory.source_event_ids:
        message.source_event_ids.extend(memory.source_event_ids)
    if memory.start_ms:
        set_timestamp(message.start_time, memory.start_ms)
    if memory.end_ms:
        set_timestamp(message.end_time, memory.end_ms)
    message.pinned = memory.pinned
    message.access_count = memory.access_count
    if memory.last_access_ms:
        set_timestamp(message.last_access_time, memory.last_access_ms)
    if memory.merged_ids:
        message.merged_memory_ids.extend(memory.merged_ids)
    message.superseded_by_memory_id = memory.superseded_by
    if memory.event_ms is not None:
        set_timestamp(message.event_time, memory.event_ms)


def match(found: Match) -> pb.MemoryMatch:
    """A search's match as a message."""
    message = pb.MemoryMatch(
        distance=found.distance, keyword_score=found.keyword_score, score=found.score
    )
    set_memory(message.memory, found.memory)
    return message
