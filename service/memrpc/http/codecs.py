"""The bodies of HTTP calls: JSON (the protobuf JSON mapping) or binary
protobuf, for `connectrpc`.

Requests are not decoded here into messages but into their protobuf bytes,
which the method's handler decodes with its own deserializer, as it does a
gRPC request's (`rpc/decoding.py` refuses what does not decode, or names an
unknown enum value). JSON that does not parse, or that names a field the
message does not have, becomes `Undecodable`: the handler answers it
`INVALID_ARGUMENT` (`ERROR_REASON_REQUEST_UNDECODABLE`), never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message


@dataclass(frozen=True)
class Undecodable:
    """A request body that is not a request of the method, and why."""

    reason: str


# A request as the codecs give it to an endpoint.
Wire = bytes | Undecodable


class BinaryCodec:
    """`application/proto` (unary) and `application/connect+proto` (streams)."""

    def name(self) -> str:
        return "proto"

    def encode(self, message: Message) -> bytes:
        return message.SerializeToString()

    def decode(self, data: bytes | bytearray, message_class: type[Message]) -> Wire:
        return bytes(data)


class JsonCodec:
    """`application/json` (unary) and `application/connect+json` (streams):
    the protobuf JSON mapping (lowerCamelCase field names, enum names,
    64-bit integers as strings, RFC 3339 timestamps, durations as `"1.5s"`)."""

    def name(self) -> str:
        return "json"

    def encode(self, message: Message) -> bytes:
        fields = json_format.MessageToDict(message)
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, data: bytes | bytearray, message_class: type[Message]) -> Wire:
        message: Any = message_class()
        try:
            json_format.Parse(bytes(data) or b"{}", message)
        except json_format.ParseError as exc:
            return Undecodable(f"the JSON body does not fit the message: {exc}")
        return bytes(message.SerializeToString())
