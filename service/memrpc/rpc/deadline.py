"""A deadline for unary calls that carry none.

A client that sets no deadline would otherwise wait for ever on a call that
cannot finish (a Redis that went silent, before its command timeout ends
the call; anything else that hangs). This interceptor gives each unary call
without a client deadline the server's default (`--default-call-timeout`);
when it passes, the handler is cancelled (and with it its Redis commands)
and the call ends with `DEADLINE_EXCEEDED`, saying so and how to choose a
deadline. A call with a deadline of its own keeps it, however long.
Streaming calls are exempt: a tail is meant to stay open.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc

from memrpc.config import flag
from memrpc.rpc.errors import ApiError, Context
from memrpc.rpc.handlers import WrappingInterceptor, rebuild
from memrpc.v1.error_reason_pb2 import ErrorReason

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler


def _bounded(serve: Callable[..., Awaitable[Any]], seconds: float) -> Callable[..., Any]:
    error = ApiError(
        grpc.StatusCode.DEADLINE_EXCEEDED,
        ErrorReason.ERROR_REASON_DEFAULT_DEADLINE_EXCEEDED,
        f"the call carried no deadline and ran past the server's default of {seconds:g} s "
        f"(server setting {flag('default_call_timeout')}); set a deadline on the call "
        "(a timeout in your gRPC client) to choose another",
        metadata={"timeoutMs": str(round(seconds * 1000))},
    )

    async def bounded(request: Any, context: Context) -> Any:
        if context.time_remaining() is not None:
            return await serve(request, context)
        try:
            async with asyncio.timeout(seconds) as scope:
                return await serve(request, context)
        except TimeoutError:
            if not scope.expired():
                raise
        return await context.abort_with_status(error.to_status())

    return bounded


class DefaultDeadlineInterceptor(WrappingInterceptor):
    """Ends unary calls that carry no deadline after `seconds`, with
    DEADLINE_EXCEEDED."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        if handler.unary_unary is None:
            return handler
        return rebuild(handler, _bounded(handler.unary_unary, self._seconds))
