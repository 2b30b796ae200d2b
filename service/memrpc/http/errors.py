"""A call's gRPC status as a Connect error: the HTTP status Connect maps
its code to, and a JSON body with the code, the message and the status
details (`google.rpc.ErrorInfo` with memrpc's reason and its metadata,
`ResourceInfo`, `QuotaFailure`, `RetryInfo`...), each as Connect sends
details: its type, its bytes in base64 and, for people reading with curl,
its JSON under `debug`."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import grpc
from connectrpc.code import Code
from connectrpc.errors import ConnectError, ErrorDetail
from google.protobuf import any_pb2, descriptor_pb2, duration_pb2
from google.protobuf.descriptor import Descriptor, FileDescriptor
from google.rpc import error_details_pb2, status_pb2
from protobuf import Registry
from protobuf.wkt import Any
from protobuf.wkt.google.protobuf.descriptor_pb import FileDescriptorSet

# The trailer that carries a status's details on the gRPC wire.
DETAILS_KEY = "grpc-status-details-bin"
# Connect spells one code differently.
_CODES = {grpc.StatusCode.CANCELLED: Code.CANCELED}


def connect_code(code: grpc.StatusCode) -> Code:
    """The Connect code of a gRPC status code."""
    return _CODES.get(code) or Code[code.name]


def connect_error(code: grpc.StatusCode, message: str, details: bytes | None) -> ConnectError:
    """The Connect error of a status: `code`, `message` and the serialized
    `google.rpc.Status` of its details (None: none)."""
    status = status_pb2.Status.FromString(details) if details else status_pb2.Status()
    return ConnectError(
        connect_code(code), message, [_readable(detail) for detail in status.details]
    )


def _readable(detail: any_pb2.Any) -> ErrorDetail:
    wire = Any(type_url=detail.type_url, value=detail.value)
    described = _registry().message(detail.type_url.rpartition("/")[2])
    return ErrorDetail(wire if described is None else wire.unpack(described) or wire)


@functools.cache
def _registry() -> Registry:
    """The descriptors of the detail messages, for their JSON under `debug`
    (each field with its JSON name, which compiled descriptors leave out)."""
    files = descriptor_pb2.FileDescriptorSet()
    for source in (duration_pb2.DESCRIPTOR, error_details_pb2.DESCRIPTOR):
        files.file.append(_with_json_names(source))
    return FileDescriptorSet.from_binary(files.SerializeToString()).to_registry()


def _with_json_names(source: FileDescriptor) -> descriptor_pb2.FileDescriptorProto:
    proto = descriptor_pb2.FileDescriptorProto()
    source.CopyToProto(proto)
    _name_fields(proto.message_type, source.message_types_by_name)
    return proto


def _name_fields(
    messages: Iterable[descriptor_pb2.DescriptorProto], described: Mapping[str, Descriptor]
) -> None:
    for message in messages:
        descriptor = described[message.name]
        for field in message.field:
            field.json_name = descriptor.fields_by_name[field.name].json_name
        _name_fields(message.nested_type, descriptor.nested_types_by_name)
