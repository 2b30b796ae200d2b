"""Malformed protobuf bytes to every RPC of the three services, over a real
connection with a raw channel (no serializers).

Every RPC in the service descriptors is covered, so a new one is fuzzed as
soon as it exists. The payloads: random bytes, valid messages truncated or
with flipped bytes, wrong wire types, huge length prefixes, invalid UTF-8 in
string fields (also nested), bad tags, and Struct payloads nested 100+ deep.

What the server must answer:
- bytes the request type cannot decode: INVALID_ARGUMENT from
  `rpc/decoding.py`, naming the method (never reaching memrpc code);
- bytes that decode: an application status (`APPLICATION`), never INTERNAL
  or UNKNOWN from memrpc code;
and afterwards it still serves normal calls.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import redis.asyncio
from google.protobuf import descriptor, message_factory
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given, settings
from hypothesis import strategies as st

from memrpc.v1 import (
    event_log_pb2,
    long_term_memory_pb2,
    namespace_settings_pb2,
    working_memory_pb2,
)
from memrpc.v1 import working_memory_pb2 as wpb
from memrpc.v1.working_memory_pb2_grpc import WorkingMemoryStub
from support import REPRODUCIBLE, error_info

pytestmark = pytest.mark.on_cluster

FD = descriptor.FieldDescriptor
MODULES = (working_memory_pb2, long_term_memory_pb2, event_log_pb2, namespace_settings_pb2)
METHODS = [
    method
    for module in MODULES
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
]
# Statuses of requests that decode: what memrpc answers to bad input.
APPLICATION = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.ABORTED,
}
# What grpc.aio answers when the request deserializer raises.
UNDECODABLE = (grpc.StatusCode.INVALID_ARGUMENT, "the request bytes are not a valid request of")
CALL_TIMEOUT_S = 10.0


# ------------------------------------------------------------- wire encoding


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def delimited(number: int, payload: bytes) -> bytes:
    return tag(number, 2) + varint(len(payload)) + payload


# A value of each wire type (3 and 4 are group markers, 6 and 7 invalid).
WIRE_VALUES = {0: varint(1), 1: bytes(8), 2: varint(1) + b"x", 3: b"", 4: b"", 5: bytes(4)}
WIRE_VALUES |= {6: b"\x01", 7: b"\x01"}
HUGE_LENGTHS = [2**31 - 1, 2**32, 2**63, 2**64 - 1]
OVERLONG_VARINT = b"\xff" * 10 + b"\x01"
BAD_UTF8 = [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"ok\x80", b"\xf4\x90\x80\x80"]


def wire_type(field: FD) -> int:
    if field.is_repeated and field.is_packed:
        return 2
    return {
        FD.TYPE_DOUBLE: 1, FD.TYPE_FIXED64: 1, FD.TYPE_SFIXED64: 1,
        FD.TYPE_FLOAT: 5, FD.TYPE_FIXED32: 5, FD.TYPE_SFIXED32: 5,
        FD.TYPE_STRING: 2, FD.TYPE_BYTES: 2, FD.TYPE_MESSAGE: 2, FD.TYPE_GROUP: 3,
    }.get(field.type, 0)  # fmt: skip


# ------------------------------------------------------------------ payloads


def message_class(desc: descriptor.Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(desc)


def populated(desc: descriptor.Descriptor, depth: int = 0) -> Message:
    """A message with every field set (the first of each oneof), nested
    messages down to a few levels."""
    message = message_class(desc)()
    for field in desc.fields:
        oneof = field.containing_oneof
        if oneof is not None and message.WhichOneof(oneof.name):
            continue
        target = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, value = field.message_type.fields
            if value.message_type is None:
                target[scalar(key)] = scalar(value)
            elif depth < 3:
                target[scalar(key)].CopyFrom(populated(value.message_type, depth + 1))
        elif field.message_type is not None:
            if depth < 3:
                sub = populated(field.message_type, depth + 1)
                if field.is_repeated:
                    target.add().CopyFrom(sub)
                else:
                    target.CopyFrom(sub)
                    target.SetInParent()
        elif field.is_repeated:
            target.append(scalar(field))
        else:
            setattr(message, field.name, scalar(field))
    return message


def scalar(field: FD) -> Any:
    if field.type == FD.TYPE_STRING:
        return "x"
    if field.type == FD.TYPE_BYTES:
        return b"x"
    if field.type == FD.TYPE_BOOL:
        return True
    if field.type == FD.TYPE_ENUM:
        return field.enum_type.values[-1].number
    if field.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
        return 0.5
    return 1


def crafted(desc: descriptor.Descriptor, depth: int = 0) -> Iterator[bytes]:
    """Malformed encodings of a message of type `desc`: wrong wire types,
    huge and overlong lengths, invalid UTF-8, bad tags; the same inside each
    message field, one level down."""
    yield tag(0, 0) + varint(1)  # field number 0
    yield tag(2**29, 0) + varint(1)  # beyond the largest field number
    yield tag(2**29 - 1, 0) + varint(1)  # unknown, valid
    yield OVERLONG_VARINT
    for field in desc.fields:
        correct = wire_type(field)
        for wt, value in WIRE_VALUES.items():
            if wt != correct:
                yield tag(field.number, wt) + value
        yield tag(field.number, correct)  # the tag alone
        if correct == 2:
            for length in HUGE_LENGTHS:
                yield tag(field.number, 2) + varint(length) + b"abc"
            yield tag(field.number, 2) + OVERLONG_VARINT + b"abc"
        if field.type == FD.TYPE_STRING:
            for bad in BAD_UTF8:
                yield delimited(field.number, bad)
        if field.message_type is not None and depth < 2:
            for inner in crafted(field.message_type, depth + 1):
                yield delimited(field.number, inner)


def truncations(valid: bytes) -> Iterator[bytes]:
    for end in range(len(valid)):
        yield valid[:end]


def nested_struct(depth: int) -> bytes:
    """A google.protobuf.Struct nested `depth` levels deep: {"a": {"a": ...}},
    every other level through a ListValue."""
    struct = b""
    for level in range(depth):
        if level % 2:
            value = delimited(6, delimited(1, delimited(5, struct)))  # list_value: [struct]
        else:
            value = delimited(5, struct)  # struct_value
        struct = delimited(1, delimited(1, b"a") + delimited(2, value))
    return struct


def append_with_json(ns: str, json_struct: bytes) -> bytes:
    """AppendEventsRequest{namespace, thread_id "t", events [{type "t", json}]}."""
    event = delimited(1, b"t") + delimited(3, json_struct)
    return delimited(1, ns.encode()) + delimited(2, b"t") + delimited(3, event)


def path(method: descriptor.MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def corpus(method: descriptor.MethodDescriptor) -> list[bytes]:
    """Every crafted payload and every truncation of a populated request."""
    valid = populated(method.input_type).SerializeToString()
    return [valid, *truncations(valid), *crafted(method.input_type)]


# ------------------------------------------------------------------- calling


async def call(
    channel: grpc.aio.Channel, method: descriptor.MethodDescriptor, payload: bytes
) -> tuple[grpc.StatusCode, str]:
    """The status of one raw call (of a stream: after its first message)."""
    try:
        if method.server_streaming:
            stream = channel.unary_stream(path(method))(payload, timeout=CALL_TIMEOUT_S)
            try:
                await stream.read()
            finally:
                stream.cancel()
        else:
            await channel.unary_unary(path(method))(payload, timeout=CALL_TIMEOUT_S)
    except grpc.aio.AioRpcError as err:
        if err.code() != grpc.StatusCode.DEADLINE_EXCEEDED:  # the client's own, else:
            error_info(err)  # every status the server makes carries its reason
        return err.code(), err.details() or ""
    return grpc.StatusCode.OK, ""


def decodes(method: descriptor.MethodDescriptor, payload: bytes) -> bool:
    try:
        message_class(method.input_type).FromString(payload)
    except DecodeError:
        return False
    return True


async def check(
    channel: grpc.aio.Channel, method: descriptor.MethodDescriptor, payload: bytes
) -> str | None:
    """Why the answer to `payload` is wrong, or None."""
    code, details = await call(channel, method, payload)
    if decodes(method, payload):
        return None if code in APPLICATION else f"{code}: {details}"
    if (code, details[: len(UNDECODABLE[1])]) == UNDECODABLE:
        return None
    return f"undecodable, yet {code}: {details}"


async def assert_still_serving(
    channel: grpc.aio.Channel, redis_client: redis.asyncio.Redis
) -> None:
    ns = f"fuzz{uuid.uuid4().hex[:8]}"
    stub = WorkingMemoryStub(channel)
    await stub.UpdateSession(wpb.UpdateSessionRequest(namespace=ns, thread_id="t"))
    got = await stub.GetSession(wpb.GetSessionRequest(namespace=ns, thread_id="t"))
    assert got.session.version == 1
    health = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    assert await redis_client.ping()


# --------------------------------------------------------------------- tests


def test_every_rpc_of_the_three_services_is_fuzzed() -> None:
    names = {f"{m.containing_service.name}.{m.name}" for m in METHODS}
    assert {"WorkingMemory.GetSession", "LongTermMemory.SearchMemories"} <= names
    assert {"EventLog.TailEvents", "EventLog.AppendEvents"} <= names
    assert len(names) >= 19


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.name)
async def test_crafted_malformed_requests_get_a_status(
    channel: grpc.aio.Channel,
    redis_client: redis.asyncio.Redis,
    method: descriptor.MethodDescriptor,
) -> None:
    payloads = corpus(method)
    assert any(not decodes(method, p) for p in payloads)
    problems = []
    for payload in payloads:
        if problem := await check(channel, method, payload):
            problems.append((payload, problem))
    assert not problems, problems[:5]
    await assert_still_serving(channel, redis_client)


def mutated(valid: bytes, rng: random.Random) -> bytes:
    """A valid message with a few bytes flipped, dropped or inserted."""
    data = bytearray(valid)
    for _ in range(rng.randint(1, 3)):
        at = rng.randrange(len(data) + 1)
        operation = rng.randrange(3)
        if operation == 0 and at < len(data):
            data[at] ^= 1 << rng.randrange(8)
        elif operation == 1 and at < len(data):
            del data[at]
        else:
            data.insert(at, rng.randrange(256))
    return bytes(data)


VALID = {m.full_name: populated(m.input_type).SerializeToString() for m in METHODS}


@st.composite
def payloads(draw: st.DrawFn) -> tuple[descriptor.MethodDescriptor, bytes]:
    method = draw(st.sampled_from(METHODS))
    seed = draw(st.integers(0, 2**32))
    payload = draw(
        st.one_of(
            st.binary(max_size=200),
            st.just(mutated(VALID[method.full_name], random.Random(seed))),
        )
    )
    return method, payload


@settings(REPRODUCIBLE, max_examples=400)
@given(case=payloads())
async def test_random_and_mutated_bytes_get_a_status(
    channel: grpc.aio.Channel, case: tuple[descriptor.MethodDescriptor, bytes]
) -> None:
    method, payload = case
    assert await check(channel, method, payload) is None, (method.full_name, payload)


def deepest_decodable() -> int:
    """The deepest `nested_struct` that protobuf's recursion limit lets decode."""
    [append] = [m for m in METHODS if m.name == "AppendEvents"]
    return max(d for d in range(1, 100) if decodes(append, append_with_json("n", nested_struct(d))))


DEEPEST = deepest_decodable()


@pytest.mark.parametrize("depth", [1, 10, DEEPEST, DEEPEST + 1, 50, 100, 200, 1000])
async def test_deeply_nested_json_payloads(
    channel: grpc.aio.Channel, redis_client: redis.asyncio.Redis, depth: int
) -> None:
    """An event's Struct nested `depth` levels: rejected, or stored and
    listed back unchanged."""
    [append] = [m for m in METHODS if m.name == "AppendEvents"]
    [list_events] = [m for m in METHODS if m.name == "ListEvents"]
    ns = f"fuzz{uuid.uuid4().hex[:8]}"
    struct = nested_struct(depth)
    payload = append_with_json(ns, struct)
    assert await check(channel, append, payload) is None
    code, _ = await call(channel, append, payload)
    if code == grpc.StatusCode.OK:
        request = event_log_pb2.ListEventsRequest(namespace=ns, thread_id="t")
        raw = channel.unary_unary(path(list_events))
        reply = await raw(request.SerializeToString(), timeout=CALL_TIMEOUT_S)
        # The Struct read back is the one sent: Event.json is field 5.
        assert delimited(5, struct) in reply
    else:
        assert code == grpc.StatusCode.INVALID_ARGUMENT, code
    await assert_still_serving(channel, redis_client)


async def test_server_survives_many_malformed_requests_at_once(
    channel: grpc.aio.Channel, redis_client: redis.asyncio.Redis
) -> None:
    rng = random.Random(5)
    work = [
        check(channel, method, mutated(VALID[method.full_name], rng))
        for method in METHODS
        for _ in range(20)
    ]
    problems = [problem for problem in await asyncio.gather(*work) if problem]
    assert not problems, problems[:5]
    await assert_still_serving(channel, redis_client)
