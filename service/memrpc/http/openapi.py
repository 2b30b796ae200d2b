"""The OpenAPI 3.1 description of the HTTP door, written from the protos'
descriptor set (with its comments): `make openapi` writes
`docs/openapi.json`, for people who generate HTTP clients from OpenAPI
rather than from the protos with Connect's generators.

Each method is a `POST /<service>/<method>` whose bodies are the protobuf
JSON mapping of its request and response (lowerCamelCase names; 64-bit
integers, timestamps, durations and field masks as strings; enums by
name); every failure answers a Connect error. A stream's body is enveloped
messages (`application/connect+json`, docs/http.md), which OpenAPI cannot
describe: its operation says so and gives the schema of one message.

`python -m memrpc.http.openapi DESCRIPTOR_SET [--check FILE]` prints the
description, or with `--check` fails when FILE differs from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from google.api import field_behavior_pb2
from google.protobuf import descriptor_pb2

from memrpc.version import VERSION

# The package of the services described.
PACKAGE = "memrpc.v1"
F = descriptor_pb2.FieldDescriptorProto
_NUMBERS = {F.TYPE_DOUBLE: "double", F.TYPE_FLOAT: "float"}
_INT32 = {F.TYPE_INT32, F.TYPE_SINT32, F.TYPE_SFIXED32, F.TYPE_UINT32, F.TYPE_FIXED32}
_INT64 = {F.TYPE_INT64, F.TYPE_SINT64, F.TYPE_SFIXED64, F.TYPE_UINT64, F.TYPE_FIXED64}
# The well-known types, as the JSON mapping writes them.
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$"},
    ".google.protobuf.FieldMask": {"type": "string", "description": "Comma-separated paths."},
    ".google.protobuf.Struct": {"type": "object"},
    ".google.protobuf.Value": {},
    ".google.protobuf.ListValue": {"type": "array", "items": {}},
    ".google.protobuf.Empty": {"type": "object"},
}
# Source-info path parts (descriptor.proto's field numbers): a file's
# messages, enums and services; a message's fields, nested messages and
# enums; a service's methods.
_MESSAGE, _ENUM, _SERVICE = 4, 5, 6
_FIELD, _NESTED, _NESTED_ENUM = 2, 3, 4
_METHOD = 2
_CONNECT_ERROR: dict[str, Any] = {
    "type": "object",
    "description": "A Connect error: the code (`invalid_argument`, `not_found`, ...), a message "
    "for people, and the status details, each as its type, its bytes in unpadded base64 "
    "(`value`) and its JSON (`debug`). memrpc's reason is the `google.rpc.ErrorInfo` detail's "
    "`reason` (docs/api.md lists them).",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "value": {"type": "string"},
                    "debug": {"type": "object"},
                },
            },
        },
    },
    "required": ["code"],
}


class _Comments:
    """The leading comments of a file's elements, by source-info path."""

    def __init__(self, file: descriptor_pb2.FileDescriptorProto) -> None:
        self._by_path = {
            tuple(location.path): location.leading_comments.strip()
            for location in file.source_code_info.location
            if location.leading_comments
        }

    def of(self, path: Sequence[int]) -> str:
        return " ".join(line.strip() for line in self._by_path.get(tuple(path), "").splitlines())


def _field_schema(field: F, maps: dict[str, descriptor_pb2.DescriptorProto]) -> dict[str, Any]:
    if field.type == F.TYPE_MESSAGE and field.type_name in maps:
        _, value = maps[field.type_name].field
        return {"type": "object", "additionalProperties": _field_schema(value, maps)}
    schema = _single(field)
    if field.label == F.LABEL_REPEATED:
        return {"type": "array", "items": schema}
    return schema


def _single(field: F) -> dict[str, Any]:
    if field.type in _NUMBERS:
        return {"type": "number", "format": _NUMBERS[field.type]}
    if field.type in _INT32:
        return {"type": "integer", "format": "int32"}
    if field.type in _INT64:
        return {"type": "string", "format": "int64", "pattern": "^-?[0-9]+$"}
    if field.type == F.TYPE_BOOL:
        return {"type": "boolean"}
    if field.type == F.TYPE_STRING:
        return {"type": "string"}
    if field.type == F.TYPE_BYTES:
        return {"type": "string", "contentEncoding": "base64"}
    if field.type_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[field.type_name])
    return {"$ref": f"#/components/schemas/{field.type_name.lstrip('.')}"}


def _message_schemas(
    messages: Iterable[descriptor_pb2.DescriptorProto],
    prefix: str,
    path: tuple[int, ...],
    comments: _Comments,
    schemas: dict[str, Any],
) -> None:
    for index, message in enumerate(messages):
        if message.options.map_entry:  # a map field's entry: the field says it all
            continue
        name = f"{prefix}.{message.name}"
        here = (*path, index)
        maps = {
            f".{name}.{nested.name}": nested
            for nested in message.nested_type
            if nested.options.map_entry
        }
        properties: dict[str, Any] = {}
        required: list[str] = []
        for number, field in enumerate(message.field):
            schema = _field_schema(field, maps)
            described = comments.of((*here, _FIELD, number))
            if described:
                schema = {**schema, "description": described}
            properties[field.json_name] = schema
            behavior = field.options.Extensions[field_behavior_pb2.field_behavior]
            if field_behavior_pb2.REQUIRED in behavior:
                required.append(field.json_name)
        schemas[name] = {
            "type": "object",
            "description": comments.of(here),
            "properties": properties,
            **({"required": required} if required else {}),
        }
        _message_schemas(message.nested_type, name, (*here, _NESTED), comments, schemas)
        _enum_schemas(message.enum_type, name, (*here, _NESTED_ENUM), comments, schemas)


def _enum_schemas(
    enums: Iterable[descriptor_pb2.EnumDescriptorProto],
    prefix: str,
    path: tuple[int, ...],
    comments: _Comments,
    schemas: dict[str, Any],
) -> None:
    for index, enum in enumerate(enums):
        schemas[f"{prefix}.{enum.name}"] = {
            "type": "string",
            "description": comments.of((*path, index)),
            "enum": [value.name for value in enum.value],
        }


def describe(files: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    """The OpenAPI document of the services of package `memrpc.v1` (those
    the server serves), from `files` (every file they need, with source
    info)."""
    schemas: dict[str, Any] = {"ConnectError": _CONNECT_ERROR}
    paths: dict[str, Any] = {}
    for file in files.file:
        comments = _Comments(file)
        _message_schemas(file.message_type, file.package, (_MESSAGE,), comments, schemas)
        _enum_schemas(file.enum_type, file.package, (_ENUM,), comments, schemas)
        for s_index, service in enumerate(file.service):
            full = f"{file.package}.{service.name}"
            if file.package != PACKAGE:
                continue
            for m_index, method in enumerate(service.method):
                summary = comments.of((_SERVICE, s_index, _METHOD, m_index))
                paths[f"/{full}/{method.name}"] = {
                    "post": _operation(service.name, method, summary)
                }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "memrpc HTTP API (Connect protocol)",
            "version": VERSION,
            "description": "Every memrpc method over HTTP/1.1 with JSON bodies, served with "
            "`memrpc serve --http-listen` (docs/http.md). Generated from the protos, the "
            "contract: `make openapi`.",
        },
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}, {}],
    }


def _operation(
    service: str, method: descriptor_pb2.MethodDescriptorProto, summary: str
) -> dict[str, Any]:
    request = {"$ref": f"#/components/schemas/{method.input_type.lstrip('.')}"}
    response = {"$ref": f"#/components/schemas/{method.output_type.lstrip('.')}"}
    streaming = method.client_streaming or method.server_streaming
    media = "application/connect+json" if streaming else "application/json"
    note = (
        " A stream: the body is enveloped messages (a flags byte, a 4-byte big-endian "
        "length, then the JSON), ending with an end-of-stream message; the schema is of one "
        "message (docs/http.md)."
        if streaming
        else ""
    )
    return {
        "operationId": f"{service}_{method.name}",
        "tags": [service],
        "description": summary + note,
        "requestBody": {"required": True, "content": {media: {"schema": request}}},
        "responses": {
            "200": {"description": "The response.", "content": {media: {"schema": response}}},
            "default": {
                "description": "A Connect error (HTTP status from its code).",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ConnectError"}}
                },
            },
        },
    }


def render(files: descriptor_pb2.FileDescriptorSet) -> str:
    """The document as `docs/openapi.json` holds it."""
    return json.dumps(describe(files), indent=2, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memrpc.http.openapi", description=__doc__)
    parser.add_argument("descriptor_set", type=Path, help="`make descriptors`' output")
    parser.add_argument("--check", type=Path, help="fail unless this file is up to date")
    args = parser.parse_args(argv)
    files = descriptor_pb2.FileDescriptorSet.FromString(args.descriptor_set.read_bytes())
    text = render(files)
    if args.check is None:
        sys.stdout.write(text)
        return 0
    if args.check.read_text() != text:
        print(f"{args.check} is out of date: run `make openapi`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
