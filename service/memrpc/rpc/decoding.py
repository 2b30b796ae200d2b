"""Requests that do not decode get `INVALID_ARGUMENT`.

grpc.aio answers a request whose bytes its deserializer rejects with
`UNKNOWN` ("Unexpected <class 'DecodeError'>"). This interceptor gives every
memrpc method a deserializer that turns such bytes into an `Undecodable`
marker instead, and a behavior that answers the marker with
`INVALID_ARGUMENT` naming the expected message, before any other check or
any memrpc code runs.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import DecodeError

from memrpc.rpc.errors import ApiError, Context
from memrpc.rpc.handlers import behavior, rebuild

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler

# The services whose requests this interceptor checks.
PREFIX = "/memrpc."


@dataclass(frozen=True)
class Undecodable:
    """Request bytes the method's message type rejected, and why."""

    reason: str


def _lenient(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(data: bytes) -> Any:
        try:
            return deserializer(data)
        except DecodeError as exc:
            return Undecodable(str(exc))

    return deserialize


def _invalid(method: str, request: Undecodable) -> ApiError:
    return ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"the request bytes are not a valid request of {method} ({request.reason}): "
        "send a message encoded from the memrpc proto",
    )


def _checked(method: str, handler: Handler) -> Callable[..., Any]:
    serve = behavior(handler)
    if handler.response_streaming:

        async def checked_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            if isinstance(request, Undecodable):
                await context.abort_with_status(_invalid(method, request).to_status())
            served = serve(request, context)
            if inspect.isawaitable(served):  # a behavior that only aborts
                await served
                return
            async for response in served:
                yield response

        return checked_stream

    async def checked(request: Any, context: Context) -> Any:
        if isinstance(request, Undecodable):
            await context.abort_with_status(_invalid(method, request).to_status())
        return await serve(request, context)

    return checked


class DecodingInterceptor(grpc.aio.ServerInterceptor):
    """Answers undecodable requests to memrpc methods with INVALID_ARGUMENT.
    Must come first among the interceptors, so that the others see only
    decoded requests."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if (
            handler is None
            or not method.startswith(PREFIX)
            or handler.request_streaming
            or handler.request_deserializer is None
        ):
            return handler
        return rebuild(
            handler,
            _checked(method, handler),
            request_deserializer=_lenient(handler.request_deserializer),
        )
