"""The server's calls, whatever carries them: every memrpc method's handler
behind the server's interceptors, for a transport other than grpcio's.

grpcio's server runs a call through its interceptors (auth, limits,
deadlines, audit, durability, logging) and then the servicer's method
handler. `Registry` records the handlers the servicers register, as a
gRPC server does (the generated `add_*Servicer_to_server` functions call it),
and installs them on the gRPC server; `Pipeline` finds a method's handler
through the same interceptors, in the same order, as grpcio does. A
transport adapter (`memrpc.http`) then only turns its requests into a
method name, metadata and request bytes, serves the handler with a
`DetachedContext` (`rpc/detached_context.py`), and turns the response or
the status back into its own form: no rule of memrpc is implemented twice.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler

# The metadata of a call: (key, value) pairs, keys in lower case.
Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CallDetails(grpc.HandlerCallDetails):
    """The method and metadata of a call, as interceptors read them."""

    method: str
    invocation_metadata: Metadata


@dataclass
class Registry:
    """The method handlers of the server's services, registered the way a
    gRPC server takes them."""

    generic: list[grpc.GenericRpcHandler] = field(default_factory=list)
    methods: dict[str, Handler] = field(default_factory=dict)

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self.generic.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: dict[str, Handler]) -> None:
        for name, handler in handlers.items():
            self.methods.setdefault(f"/{service}/{name}", handler)

    def install(self, server: grpc.aio.Server) -> None:
        """Registers every handler on `server`."""
        server.add_generic_rpc_handlers(tuple(self.generic))
        by_service: dict[str, dict[str, Handler]] = {}
        for method, handler in self.methods.items():
            service, _, name = method.lstrip("/").partition("/")
            by_service.setdefault(service, {})[name] = handler
        for service, handlers in by_service.items():
            server.add_registered_method_handlers(service, handlers)

    def find(self, call: grpc.HandlerCallDetails) -> Handler | None:
        """The handler of `call.method`, None if no service has it."""
        handler = self.methods.get(call.method)
        if handler is not None:
            return handler
        for generic in self.generic:
            found = generic.service(call)
            if found is not None:
                return found
        return None


class Pipeline:
    """Finds a method's handler behind `interceptors` (the first one
    outermost, as grpcio runs them)."""

    def __init__(
        self, registry: Registry, interceptors: Sequence[grpc.aio.ServerInterceptor]
    ) -> None:
        self._registry = registry
        self._interceptors = tuple(interceptors)

    async def handler(self, method: str, metadata: Metadata) -> Handler | None:
        """The handler that serves a call of `method` (`/memrpc.v1.X/Y`)
        with `metadata`, None for a method no service has."""
        return await self._through(iter(self._interceptors), CallDetails(method, metadata))

    async def _through(
        self,
        interceptors: Iterator[grpc.aio.ServerInterceptor],
        call: grpc.HandlerCallDetails,
    ) -> Handler | None:
        interceptor = next(interceptors, None)
        if interceptor is None:
            return self._registry.find(call)
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]] = functools.partial(
            self._through, interceptors
        )
        return await interceptor.intercept_service(continuation, call)
