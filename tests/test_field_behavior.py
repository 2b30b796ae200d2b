"""Field behaviours (AIP-203) are part of the contract: every field of a
request or an input says whether it is required, and every field of a
resource the server returns is output only; and the server holds requests
to them: a request without one of its required fields is refused, naming it.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest
from google.api import field_behavior_pb2
from google.protobuf import descriptor, json_format
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from memrpc.v1 import (
    event_log_pb2,
    long_term_memory_pb2,
    namespace_settings_pb2,
    working_memory_pb2,
)
from support import assert_invalid

pytestmark = pytest.mark.on_cluster

FILES = (working_memory_pb2, long_term_memory_pb2, event_log_pb2, namespace_settings_pb2)
MESSAGES = {
    message.name: message
    for file in FILES
    for message in file.DESCRIPTOR.message_types_by_name.values()
}
METHODS = {
    method.name: method
    for file in FILES
    for service in file.DESCRIPTOR.services_by_name.values()
    for method in service.methods
}
# The resources the server returns (written with their *Input messages).
RESOURCES = ("Session", "Turn", "Memory")
FB = field_behavior_pb2.FieldBehavior


def behaviours(field: descriptor.FieldDescriptor) -> list[int]:
    return list(field.GetOptions().Extensions[field_behavior_pb2.field_behavior])


def annotated(name: str) -> bool:
    return name.endswith(("Request", "Input")) or name in RESOURCES


@pytest.mark.parametrize("name", sorted(n for n in MESSAGES if annotated(n)))
def test_every_field_of_requests_inputs_and_resources_has_a_behaviour(name: str) -> None:
    for field in MESSAGES[name].fields:
        found = behaviours(field)
        assert found, f"{name}.{field.name} has no google.api.field_behavior"
        if name in RESOURCES:
            assert FB.OUTPUT_ONLY in found, f"{name}.{field.name} is not OUTPUT_ONLY"
        else:
            assert FB.OUTPUT_ONLY not in found, f"{name}.{field.name} is an input"
            assert (FB.REQUIRED in found) != (FB.OPTIONAL in found), f"{name}.{field.name}"


# A valid request of every unary method (canonical JSON); ${memory} is a
# memory id that exists, made by the fixture below.
VALID: dict[str, dict[str, Any]] = {
    "GetSession": {"threadId": "t"},
    "GetContext": {"threadId": "t", "text": "tea"},
    "UpdateSession": {"threadId": "t", "session": {"goal": "g"}},
    "AppendTurns": {"threadId": "t", "turns": [{"role": "user", "content": "hi"}]},
    "DeleteSession": {"threadId": "t"},
    "ListSessions": {},
    "CreateMemories": {"memories": [{"text": "Alice likes tea"}]},
    "SearchMemories": {"text": "tea"},
    "ListMemories": {},
    "GetMemory": {"memoryId": "${memory}"},
    "UpdateMemory": {"memoryId": "${memory}", "memory": {"topics": ["drinks"]}},
    "DeleteMemory": {"memoryId": "${memory}"},
    "DeleteMemories": {"filter": {"userIds": ["nobody"]}},
    "AppendEvents": {"threadId": "t", "events": [{"type": "e"}]},
    "ListEvents": {"threadId": "t"},
    "TrimEvents": {"threadId": "t", "maxLen": "10"},
    "CreateConsumerGroup": {"group": "g"},
    "ReceiveEvents": {"group": "g", "consumer": "c"},
    "AcknowledgeEvents": {"group": "g", "deliveryIds": ["1-0"]},
    "DeleteConsumerGroup": {"group": "g"},
    "GetNamespaceSettings": {},
    "UpdateNamespaceSettings": {"settings": {"sessions": {"maxWindowTurns": 5}}},
}


def required_paths(message: descriptor.Descriptor, prefix: str = "") -> list[str]:
    """The paths of the required scalar and repeated fields of a request:
    its own, and those of the first item of its repeated inputs."""
    paths = []
    for field in message.fields:
        path = f"{prefix}{field.name}"
        required = FB.REQUIRED in behaviours(field)
        if required and (field.message_type is None or field.is_repeated):
            paths.append(path)
        nested = field.message_type
        if field.is_repeated and nested is not None and not nested.GetOptions().map_entry:
            paths += required_paths(nested, f"{path}[0].")
    return paths


def cleared(request: Message, path: str) -> Message:
    """A copy of `request` with the field at `path` cleared."""
    copy = type(request)()
    copy.CopyFrom(request)
    *parents, last = path.split(".")
    target: Any = copy
    for part in parents:
        name, _, index = part.partition("[")
        target = getattr(target, name)[int(index.rstrip("]"))] if index else getattr(target, name)
    target.ClearField(last)
    return copy


CASES = [
    (name, path)
    for name, method in METHODS.items()
    if not method.server_streaming
    for path in required_paths(method.input_type)
]


def test_every_unary_method_has_a_valid_request() -> None:
    unary = {name for name, method in METHODS.items() if not method.server_streaming}
    assert unary == set(VALID)


async def request_of(ltm: Any, ns: str, method: str) -> Message:
    """The valid request of `method` in namespace `ns`."""
    created = await ltm.CreateMemories(
        long_term_memory_pb2.CreateMemoriesRequest(
            namespace=ns, memories=[long_term_memory_pb2.MemoryInput(text="Alice likes tea")]
        )
    )
    text = json.dumps({"namespace": ns, **VALID[method]})
    return json_format.Parse(text.replace("${memory}", created.results[0].memory.id), make(method))


async def call(channel: grpc.aio.Channel, method: str, request: Message) -> None:
    found = METHODS[method]
    await channel.unary_unary(
        f"/{found.containing_service.full_name}/{method}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=GetMessageClass(found.output_type).FromString,
    )(request, timeout=10)


@pytest.mark.parametrize("method", sorted(VALID))
async def test_the_valid_requests_are_valid(
    channel: grpc.aio.Channel, ltm: Any, ns: str, method: str
) -> None:
    code, details = grpc.StatusCode.OK, ""
    try:
        await call(channel, method, await request_of(ltm, ns, method))
    except grpc.aio.AioRpcError as err:  # e.g. NOT_FOUND for a group never made
        code, details = err.code(), err.details()
    assert code != grpc.StatusCode.INVALID_ARGUMENT, details


@pytest.mark.parametrize(("method", "path"), CASES, ids=[f"{m}:{p}" for m, p in CASES])
async def test_a_request_without_a_required_field_is_refused_naming_it(
    channel: grpc.aio.Channel, ltm: Any, ns: str, method: str, path: str
) -> None:
    request = await request_of(ltm, ns, method)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await call(channel, method, cleared(request, path))
    assert_invalid(refused.value, path)


def make(method: str) -> Message:
    return GetMessageClass(METHODS[method].input_type)()
