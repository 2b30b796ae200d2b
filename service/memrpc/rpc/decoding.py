"""Requests that do not decode, or hold an enum value their enum does not
name, get `INVALID_ARGUMENT`.

grpc.aio answers a request whose bytes its deserializer rejects with
`UNKNOWN` ("Unexpected <class 'DecodeError'>"). This interceptor gives every
memrpc method a deserializer that turns such bytes into a `Refused` marker
instead, and a behavior that answers the marker with `INVALID_ARGUMENT`
naming the expected message, before any other check or any memrpc code runs.
A decoded request goes through `validate.known_enums` the same way, so that
every RPC, a new one too, refuses unknown enum values (proto3 decodes them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import DecodeError

from memrpc.rpc import validate
from memrpc.rpc.errors import ApiError, Context
from memrpc.rpc.handlers import WrappingInterceptor, behavior, rebuild, responses
from memrpc.v1.error_reason_pb2 import ErrorReason

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler

# The services whose requests this interceptor checks.
PREFIX = "/memrpc."


@dataclass(frozen=True)
class Refused:
    """A request refused as it was decoded, and the error to answer it with."""

    error: ApiError


def _lenient(method: str, deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            request = deserializer(data)
        except DecodeError as exc:
            return Refused(undecodable(method, str(exc)))
        try:
            validate.known_enums(request)
        except ApiError as unknown:
            return Refused(unknown)
        return request

    return deserialize


def undecodable(method: str, reason: str) -> ApiError:
    """`INVALID_ARGUMENT` for a request of `method` that does not decode
    (`reason` says why)."""
    return ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorReason.ERROR_REASON_REQUEST_UNDECODABLE,
        f"the request bytes are not a valid request of {method} ({reason}): "
        "send a message encoded from the memrpc proto",
        metadata={"method": method},
    )


def _checked(handler: Handler) -> Callable[..., Any]:
    serve = behavior(handler)
    if handler.response_streaming:

        async def checked_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            if isinstance(request, Refused):
                await context.abort_with_status(request.error.to_status())
            async for response in responses(serve(request, context)):
                yield response

        return checked_stream

    async def checked(request: Any, context: Context) -> Any:
        if isinstance(request, Refused):
            await context.abort_with_status(request.error.to_status())
        return await serve(request, context)

    return checked


class DecodingInterceptor(WrappingInterceptor):
    """Answers undecodable requests to memrpc methods, and those with unknown
    enum values, with INVALID_ARGUMENT.
    Must come before every interceptor that reads requests, so that they see only
    decoded requests."""

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        method = call.method
        if (
            not method.startswith(PREFIX)
            or handler.request_streaming
            or handler.request_deserializer is None
        ):
            return handler
        return rebuild(
            handler,
            _checked(handler),
            request_deserializer=_lenient(method, handler.request_deserializer),
        )
