"""gRPC server reflection, `grpc.reflection.v1` and `grpc.reflection.v1alpha`,
answered by one servicer.

grpcio-reflection ships only v1alpha; grpcurl, ghz, Postman and grpc-java's
tools ask v1 first (grpcurl falls back to v1alpha, newer tools may not). The
two protocols are wire-identical (same messages, same field numbers), so v1
is a thin adapter: each v1 request is parsed as v1alpha from its bytes,
answered by grpcio-reflection's servicer, and its answer parsed back as v1.

One fix on the way in: the Python descriptor pool (upb) does not find the
file of a method's full name (`memrpc.v1.WorkingMemory.GetSession`), which
the reflection protocol says `file_containing_symbol` takes
(`<package>.<service>[.<method>]`), so grpcurl's `describe` of a method and
ghz's `--call` answered "Symbol not found". A method's symbol is looked up
as its service's, whose file is the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection as v1alpha
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as v1alpha_grpc

from memrpc.grpc_reflection.v1 import reflection_pb2 as v1_pb2
from memrpc.grpc_reflection.v1 import reflection_pb2_grpc as v1_grpc

V1_SERVICE_NAME: str = v1_pb2.DESCRIPTOR.services_by_name["ServerReflection"].full_name
V1ALPHA_SERVICE_NAME: str = v1alpha.SERVICE_NAME
SERVICE_NAMES = (V1_SERVICE_NAME, V1ALPHA_SERVICE_NAME)


def symbol_to_find(pool: descriptor_pool.DescriptorPool, symbol: str) -> str:
    """The symbol whose file `file_containing_symbol` answers for `symbol`:
    a method's service (the pool finds no method by name), else itself."""
    try:
        pool.FindFileContainingSymbol(symbol)
    except KeyError:
        service, _, method = symbol.rpartition(".")
        try:
            found = pool.FindServiceByName(service)
        except KeyError:
            return symbol
        if method in found.methods_by_name:
            return service
    return symbol


class Reflection:
    """grpc.reflection.v1alpha: grpcio-reflection's servicer, with method
    symbols found (`symbol_to_find`)."""

    def __init__(
        self, service_names: Iterable[str], pool: descriptor_pool.DescriptorPool | None = None
    ) -> None:
        self._pool = pool if pool is not None else descriptor_pool.Default()
        self._inner = v1alpha.aio.ReflectionServicer(tuple(service_names), pool=self._pool)

    async def answer(
        self, request: v1alpha_pb2.ServerReflectionRequest, context: Any
    ) -> v1alpha_pb2.ServerReflectionResponse:
        """The answer to one request (each request has exactly one)."""
        asked = request
        if request.HasField("file_containing_symbol"):
            symbol = symbol_to_find(self._pool, request.file_containing_symbol)
            if symbol != request.file_containing_symbol:
                asked = v1alpha_pb2.ServerReflectionRequest()
                asked.CopyFrom(request)
                asked.file_containing_symbol = symbol
        answers = self._inner.ServerReflectionInfo(_one(asked), context)
        (response,) = [answer async for answer in answers]
        if asked is not request:
            response.original_request.CopyFrom(request)
        return response

    async def ServerReflectionInfo(
        self,
        request_iterator: AsyncIterator[v1alpha_pb2.ServerReflectionRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[v1alpha_pb2.ServerReflectionResponse]:
        async for request in request_iterator:
            yield await self.answer(request, context)


class ReflectionV1(v1_grpc.ServerReflectionServicer):
    """grpc.reflection.v1, answered by a v1alpha `Reflection` through the
    messages' bytes (the two versions' messages are wire-identical)."""

    def __init__(self, alpha: Reflection) -> None:
        self._alpha = alpha

    async def ServerReflectionInfo(
        self,
        request_iterator: AsyncIterator[v1_pb2.ServerReflectionRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[v1_pb2.ServerReflectionResponse]:
        async for request in request_iterator:
            alpha = v1alpha_pb2.ServerReflectionRequest.FromString(request.SerializeToString())
            response = await self._alpha.answer(alpha, context)
            yield v1_pb2.ServerReflectionResponse.FromString(response.SerializeToString())


def enable(server: grpc.aio.Server, service_names: Iterable[str]) -> None:
    """Serves reflection v1 and v1alpha on `server`, listing `service_names`
    and both reflection services."""
    alpha = Reflection((*service_names, *SERVICE_NAMES))
    v1alpha_grpc.add_ServerReflectionServicer_to_server(alpha, server)
    v1_grpc.add_ServerReflectionServicer_to_server(ReflectionV1(alpha), server)


async def _one(
    request: v1alpha_pb2.ServerReflectionRequest,
) -> AsyncIterator[v1alpha_pb2.ServerReflectionRequest]:
    yield request
