"""Checks of request fields against the limits documented in the proto.

Every check either returns the value ready for the store or raises
`ApiError.invalid` naming the field. Nothing unchecked reaches Redis.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence, Sized

from google.protobuf import descriptor, duration_pb2, struct_pb2
from google.protobuf.message import Message

from memrpc.limits import (
    MAX_ID_CHARS,
    MAX_METADATA_ENTRIES,
    MAX_METADATA_KEY_CHARS,
    MAX_METADATA_VALUE_CHARS,
    MAX_NAME_CHARS,
    MAX_NAMESPACE_CHARS,
    RESERVED_GROUP_PREFIX,
    Range,
)
from memrpc.rpc.errors import ApiError
from memrpc.store.memory_changes import CHANGES_THREAD, RESERVED_THREAD_PREFIX
from memrpc.store.memory_ids import client_id_problem, is_memory_id

_NAMESPACE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_NAMESPACE_CHARS - 1}}}")
_NAME = re.compile(rf"[A-Za-z0-9._:-]{{1,{MAX_NAME_CHARS}}}")
_EVENT_ID = re.compile(r"(0|[0-9]{1,19}(-[0-9]{1,19})?)")

MAX_UINT64 = 2**64 - 1
# The types of JSON payloads: `json_payload` walks them (NullValue included).
_JSON_TYPES = frozenset(
    d.full_name
    for d in (
        struct_pb2.Struct.DESCRIPTOR,
        struct_pb2.Value.DESCRIPTOR,
        struct_pb2.ListValue.DESCRIPTOR,
    )
)


def is_namespace(value: str) -> bool:
    """Whether `value` is a valid namespace (`namespace`)."""
    return _NAMESPACE.fullmatch(value) is not None


def namespace(value: str, field: str = "namespace") -> str:
    """A namespace: 1 to 64 of `[A-Za-z0-9._-]`, starting alphanumeric."""
    if not value:
        raise ApiError.invalid(field, "required")
    if not is_namespace(value):
        raise ApiError.invalid(
            field,
            f"must be 1 to {MAX_NAMESPACE_CHARS} characters of [A-Za-z0-9._-], "
            "starting with a letter or digit",
        )
    return value


def printable(value: str, field: str, *, max_chars: int = MAX_ID_CHARS, required: bool) -> str:
    """An id-like string: printable characters, no surrounding white space."""
    if not value:
        if required:
            raise ApiError.invalid(field, "required")
        return value
    if len(value) > max_chars:
        raise ApiError.invalid(field, f"must be at most {max_chars} characters")
    if not value.isprintable():
        raise ApiError.invalid(field, "must contain only printable characters")
    if value != value.strip():
        raise ApiError.invalid(field, "must not start or end with white space")
    return value


def thread_id(value: str, field: str = "thread_id", *, required: bool = True) -> str:
    """A thread id: 1 to 128 printable characters."""
    return printable(value, field, required=required)


def writable_thread_id(value: str, field: str = "thread_id") -> str:
    """The thread id of a request that writes the thread (its session or
    its log): a `thread_id` not starting with `memrpc.`, which marks the
    threads the server writes (`memory_changes.RESERVED_THREAD_PREFIX`);
    those can be read like any other."""
    thread_id(value, field)
    if value.startswith(RESERVED_THREAD_PREFIX):
        raise ApiError.invalid(
            field,
            f"must not start with {RESERVED_THREAD_PREFIX!r}: such threads are written by the "
            f"server only (read them, such as {CHANGES_THREAD!r}, the memory changes), "
            "so choose another thread id",
        )
    return value


def user_id(value: str, field: str = "user_id", *, required: bool = False) -> str:
    """A user id: 1 to 128 printable characters, or empty when optional."""
    return printable(value, field, required=required)


def name(value: str, field: str) -> str:
    """A consumer group or consumer name: 1 to 64 of `[A-Za-z0-9._:-]`."""
    if not value:
        raise ApiError.invalid(field, "required")
    if not _NAME.fullmatch(value):
        raise ApiError.invalid(
            field, f"must be 1 to {MAX_NAME_CHARS} characters of [A-Za-z0-9._:-]"
        )
    return value


def group(value: str, field: str = "group") -> str:
    """A consumer group name: a `name` not starting with `memrpc.`, which
    the server's background jobs own (`memrpc/jobs/`)."""
    name(value, field)
    if value.startswith(RESERVED_GROUP_PREFIX):
        raise ApiError.invalid(
            field,
            f"must not start with {RESERVED_GROUP_PREFIX!r}: such groups belong to the "
            "server's background jobs",
        )
    return value


def event_id(value: str, field: str) -> str:
    """A Redis stream id, `<ms>-<seq>` or `<ms>` or `0`, within 64 bits each."""
    if not _EVENT_ID.fullmatch(value) or any(int(p) > MAX_UINT64 for p in value.split("-")):
        raise ApiError.invalid(field, "must be an event id like 1732550400000-0")
    return value


def memory_id(value: str, field: str = "memory_id") -> str:
    """A memory id: a 26-character ULID, or an id a client chose."""
    if not value:
        raise ApiError.invalid(field, "required")
    if not is_memory_id(value):
        raise ApiError.invalid(
            field,
            "must be a memory id: a 26-character ULID, or a client's id of lower-case "
            "letters, digits and hyphens",
        )
    return value


def client_memory_id(value: str, field: str) -> str:
    """A client-chosen memory id (AIP-122 grammar); '' when unset."""
    problem = client_id_problem(value) if value else None
    if problem is not None:
        raise ApiError.invalid(field, problem)
    return value


def expected_version(request: Message, *, creates: bool) -> int | None:
    """The `expected_version` of a write, None when unset: a version (they
    start at 1), or also 0 ("does not exist yet") for a method that
    `creates` its resource."""
    if not request.HasField("expected_version"):
        return None
    version: int = getattr(request, "expected_version")  # noqa: B009 (any write request)
    if version < (0 if creates else 1):
        allowed = "0 (not created yet) or a version (from 1)" if creates else "a version (from 1)"
        raise ApiError.invalid("expected_version", f"must be {allowed}")
    return version


def text(value: str, field: str, *, max_chars: int, required: bool) -> str:
    """Free text: at most `max_chars` characters; not blank when required."""
    if required and not value.strip():
        raise ApiError.invalid(field, "required, and not only white space")
    if len(value) > max_chars:
        raise ApiError.invalid(field, f"must be at most {max_chars} characters")
    return value


def metadata(value: Mapping[str, str], field: str, *, max_bytes: int) -> dict[str, str]:
    """A string map within the metadata limits: its entries, their keys and
    values, and `max_bytes` of UTF-8 for all its keys and values together."""
    if len(value) > MAX_METADATA_ENTRIES:
        raise ApiError.invalid(field, f"must have at most {MAX_METADATA_ENTRIES} entries")
    size = 0
    for key, item in value.items():
        printable(key, f"{field}[{key!r}] key", max_chars=MAX_METADATA_KEY_CHARS, required=True)
        metadata_value(item, f"{field}[{key!r}]")
        size += len(key.encode()) + len(item.encode())
    if size > max_bytes:
        raise ApiError.invalid(
            field, f"must hold at most {max_bytes} bytes of keys and values (UTF-8), not {size}"
        )
    return dict(value)


def metadata_value(value: str, field: str) -> str:
    """A metadata value: at most `MAX_METADATA_VALUE_CHARS` characters."""
    if len(value) > MAX_METADATA_VALUE_CHARS:
        raise ApiError.invalid(field, f"must be at most {MAX_METADATA_VALUE_CHARS} characters")
    return value


def batch(values: Sized, field: str, *, max_items: int) -> None:
    """A request's list of things to write: 1 to `max_items` of them."""
    if not values:
        raise ApiError.invalid(field, "required: at least one item")
    if len(values) > max_items:
        raise ApiError.invalid(field, f"must have at most {max_items} items, not {len(values)}")


def count(value: int, field: str, limit: Range, *, default: int | None = None) -> int:
    """A count or size: `default` (else the limit's) when 0, else within its bounds."""
    if value == 0:
        return int(limit.default) if default is None else default
    if not limit.low <= value <= limit.high:
        raise ApiError.invalid(
            field, f"must be between {_number(limit.low)} and {_number(limit.high)}"
        )
    return value


def seconds(
    value: duration_pb2.Duration, field: str, limit: Range, *, default: float | None = None
) -> float:
    """A duration in seconds: `default` (else the limit's) when unset or
    zero, else within its bounds."""
    if value.seconds == 0 and value.nanos == 0:
        return limit.default if default is None else default
    if value.seconds < 0 or value.nanos < 0 or value.nanos >= 1_000_000_000:
        raise ApiError.invalid(field, "must be a positive duration")
    total = value.seconds + value.nanos / 1e9
    if not limit.low <= total <= limit.high:
        raise ApiError.invalid(
            field, f"must be between {_number(limit.low)} s and {_number(limit.high)} s"
        )
    return total


def distance(value: float, field: str, limit: Range) -> float:
    """A cosine distance within the limit's bounds."""
    if not math.isfinite(value) or not limit.low <= value <= limit.high:
        raise ApiError.invalid(
            field, f"must be between {_number(limit.low)} and {_number(limit.high)}"
        )
    return value


def _between(limit: Range, unit: str = "") -> str:
    """The message for a value out of the limit's bounds."""
    return f"must be between {_number(limit.low)}{unit} and {_number(limit.high)}{unit}"


def _number(value: float) -> str:
    """A bound as the proto comments write it: 1000, 0.1."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def each_unique(values: Sequence[str], field: str, *, max_items: int) -> list[str]:
    """A list of at most `max_items` values, without repeats (order kept)."""
    if len(values) > max_items:
        raise ApiError.invalid(field, f"must have at most {max_items} items")
    return list(dict.fromkeys(values))


def json_payload(value: struct_pb2.Struct, field: str, *, max_levels: int) -> None:
    """A JSON payload at most `max_levels` protobuf message levels deep,
    counting its Struct as 1 (a Struct's values are 2 levels below it, under
    their FieldsEntry; a ListValue's 1), without unknown NullValues. Walked
    with a stack, not recursion (the request decoded, so it is at most 100
    levels deep anyway)."""
    containers: list[tuple[struct_pb2.Struct | struct_pb2.ListValue, int]] = [(value, 1)]
    while containers:
        container, level = containers.pop()
        values: Sequence[struct_pb2.Value]
        if isinstance(container, struct_pb2.Struct):
            values, inner = list(container.fields.values()), level + 2
        else:
            values, inner = container.values, level + 1
        if (inner if values else level) > max_levels:
            raise ApiError.invalid(
                field,
                f"must nest at most {max_levels} protobuf message levels "
                "(a JSON object costs 3, a list 2)",
            )
        for item in values:
            kind = item.WhichOneof("kind")
            if kind == "struct_value":
                containers.append((item.struct_value, inner + 1))
            elif kind == "list_value":
                containers.append((item.list_value, inner + 1))
            elif kind == "null_value" and item.null_value != struct_pb2.NULL_VALUE:
                raise ApiError.invalid(field, f"unknown NullValue {item.null_value}: must be 0")


def known_enums(message: Message) -> None:
    """Refuses an enum value that its enum does not name, in any set field of
    a request, nested messages and repeated fields included (proto3 enums are
    open: an unknown number decodes, and would be acted on as something the
    contract does not define). The field is named by its path, like
    `filter.kinds[1]`. JSON payloads are left to `json_payload`."""
    messages: list[tuple[Message, str]] = [(message, "")]
    while messages:
        current, path = messages.pop()
        for field, value in current.ListFields():
            name = f"{path}{field.name}"
            if field.enum_type is not None:
                repeated = field.is_repeated
                numbers = value if repeated else [value]
                for i, number in enumerate(numbers):
                    _known(field.enum_type, number, f"{name}[{i}]" if repeated else name)
            elif field.message_type is not None and _has_enums(field.message_type):
                if field.message_type.GetOptions().map_entry:
                    value_field = field.message_type.fields_by_name["value"]
                    for key, item in value.items():
                        if value_field.enum_type is not None:
                            _known(value_field.enum_type, item, f"{name}[{key!r}]")
                        else:
                            messages.append((item, f"{name}[{key!r}]."))
                elif field.is_repeated:
                    messages.extend((item, f"{name}[{i}].") for i, item in enumerate(value))
                else:
                    messages.append((value, f"{name}."))


def _known(enum: descriptor.EnumDescriptor, number: int, field: str) -> None:
    if number not in enum.values_by_number:
        names = ", ".join(value.name for value in enum.values)
        raise ApiError.invalid(field, f"unknown {enum.name} {number}: must be one of {names}")


@functools.cache
def _has_enums(message: descriptor.Descriptor, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a message type can hold an enum field, at any depth, outside
    JSON payloads."""
    if message.full_name in _JSON_TYPES or message.full_name in seen:
        return False
    inner = seen | {message.full_name}
    return any(
        field.enum_type is not None
        or (field.message_type is not None and _has_enums(field.message_type, inner))
        for field in message.fields
    )
