"""Rebuilding a gRPC method handler with another behavior or deserializer,
and serving a streaming behavior's responses, for server interceptors; and
`WrappingInterceptor`, the shape of every memrpc interceptor that serves a
method's calls another way."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc

if TYPE_CHECKING:
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]

_FACTORIES = {
    (False, False): grpc.unary_unary_rpc_method_handler,
    (False, True): grpc.unary_stream_rpc_method_handler,
    (True, False): grpc.stream_unary_rpc_method_handler,
    (True, True): grpc.stream_stream_rpc_method_handler,
}


def behavior(handler: Handler) -> Callable[..., Any]:
    """The function that serves calls of `handler`, whatever its kind."""
    serve = (
        handler.unary_unary or handler.unary_stream or handler.stream_unary or handler.stream_stream
    )
    assert serve is not None, "a method handler without a behavior"
    return serve


def rebuild(
    handler: Handler,
    serve: Callable[..., Any],
    *,
    request_deserializer: Callable[[bytes], Any] | None = None,
) -> Handler:
    """A handler of the same kind as `handler` serving with `serve`, with
    `handler`'s serializers unless `request_deserializer` is given."""
    factory = _FACTORIES[handler.request_streaming, handler.response_streaming]
    return factory(
        serve,
        request_deserializer=request_deserializer or handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


async def responses(served: Any) -> AsyncIterator[Any]:
    """The responses of a call to a server-streaming behavior: those of an
    async iterator, or none of a coroutine (one that writes them itself with
    `context.write`, as the health servicer's `Watch`, or only aborts)."""
    if inspect.isawaitable(served):
        await served
        return
    async for response in served:
        yield response


class WrappingInterceptor(grpc.aio.ServerInterceptor):
    """A server interceptor that hands each method handler found to `wrap`,
    which returns it as it is or rebuilt (`rebuild`) to serve its calls
    another way."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        return None if handler is None else self.wrap(handler, handler_call_details)

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        """The handler to serve the call with (`call.method`, its metadata)."""
        raise NotImplementedError
