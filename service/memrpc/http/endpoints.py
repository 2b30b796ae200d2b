"""memrpc's methods as Connect endpoints, from the services' descriptors:
each one serves its call through the server's pipeline (`rpc/pipeline.py`:
the interceptors, then the servicer), with a `DetachedContext` carrying the
HTTP request's headers as metadata, its client as the peer and its
`Connect-Timeout-Ms` as the deadline. A status the handler ends the call
with becomes a Connect error (`http/errors.py`); the call's trailing
metadata (its correlation id, `x-request-id`) becomes response headers of a
unary call and the end-of-stream metadata of a stream."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Iterable
from typing import TYPE_CHECKING, Any

import grpc
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.request import RequestContext
from connectrpc.server import Endpoint
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import MethodDescriptor

from memrpc.http.codecs import Undecodable, Wire
from memrpc.http.errors import DETAILS_KEY, connect_error
from memrpc.rpc.decoding import Refused, undecodable
from memrpc.rpc.detached_context import DetachedContext
from memrpc.rpc.errors import as_api_error
from memrpc.rpc.handlers import behavior
from memrpc.rpc.pipeline import Metadata, Pipeline

if TYPE_CHECKING:
    from connectrpc.request import Headers

    from memrpc.rpc.handlers import Handler

# Request headers that are HTTP's, not the call's metadata.
_HTTP_HEADERS = frozenset(
    {
        "host",
        "content-type",
        "content-length",
        "content-encoding",
        "accept-encoding",
        "connection",
        "user-agent",
        "accept",
        "te",
        "transfer-encoding",
    }
)


def endpoints(pipeline: Pipeline, service_names: Iterable[str]) -> dict[str, Any]:
    """The Connect endpoint of every method of the services named, by path
    (`/memrpc.v1.WorkingMemory/GetSession`). (Its values are of the kinds
    of `Endpoint`, whose union connectrpc does not export.)"""
    pool = descriptor_pool.Default()
    found: dict[str, Any] = {}
    for name in service_names:
        for method in pool.FindServiceByName(name).methods:
            path = f"/{name}/{method.name}"
            found[path] = _endpoint(_Call(pipeline, path), method)
    return found


def _endpoint(call: _Call, method: MethodDescriptor) -> Endpoint[Any, Any]:
    streams = method.client_streaming, method.server_streaming
    info = MethodInfo(
        name=method.name,
        service_name=method.containing_service.full_name,
        input=message_factory.GetMessageClass(method.input_type),
        output=message_factory.GetMessageClass(method.output_type),
        idempotency_level=IdempotencyLevel.UNKNOWN,
        stream_type={
            (False, False): StreamType.UNARY,
            (True, False): StreamType.CLIENT_STREAM,
            (False, True): StreamType.SERVER_STREAM,
            (True, True): StreamType.BIDI_STREAM,
        }[streams],
    )
    if streams == (False, False):
        return Endpoint.unary(info, call.unary)
    if streams == (True, False):
        return Endpoint.client_stream(info, call.client_stream)
    if streams == (False, True):
        return Endpoint.server_stream(info, call.server_stream)
    raise ValueError(f"{call.path}: memrpc serves no bidirectional streams over HTTP")


class _Call:
    """The calls of one method (`path`) through `pipeline`."""

    def __init__(self, pipeline: Pipeline, path: str) -> None:
        self._pipeline = pipeline
        self.path = path

    async def unary(self, wire: Wire, ctx: RequestContext[Any, Any]) -> Any:
        handler, context = await self._begin(ctx)
        serve = behavior(handler)
        try:
            response = await _ended(context, serve(self._request(handler, wire), context))
        finally:
            _copy_trailers(context, ctx.response_headers)
        return response

    async def client_stream(self, wires: AsyncIterator[Wire], ctx: RequestContext[Any, Any]) -> Any:
        handler, context = await self._begin(ctx)
        serve = behavior(handler)

        async def requests() -> AsyncIterator[Any]:
            async for wire in wires:
                request = self._request(handler, wire)
                if isinstance(request, Refused):
                    await context.abort_with_status(request.error.to_status())
                yield request

        try:
            return await _ended(context, serve(requests(), context))
        finally:
            _copy_trailers(context, ctx.response_headers)

    async def server_stream(self, wire: Wire, ctx: RequestContext[Any, Any]) -> AsyncIterator[Any]:
        handler, context = await self._begin(ctx)
        serve = behavior(handler)
        responses = serve(self._request(handler, wire), context)
        try:
            while True:
                try:
                    response = await _ended(context, anext(responses))
                except StopAsyncIteration:
                    return
                yield response
        finally:
            # A client gone mid-stream ends the handler's stream now (a
            # tail's subscription with it), not when it is collected.
            await responses.aclose()
            _copy_trailers(context, ctx.response_trailers)

    async def _begin(self, ctx: RequestContext[Any, Any]) -> tuple[Handler, DetachedContext]:
        metadata = _metadata(ctx.request_headers)
        handler = await self._pipeline.handler(self.path, metadata)
        if handler is None:
            raise ConnectError(Code.UNIMPLEMENTED, f"{self.path} is not served")
        timeout_ms = ctx.timeout_ms
        context = DetachedContext(
            metadata,
            _peer(ctx.client_address),
            None if timeout_ms is None else timeout_ms / 1000,
        )
        return handler, context

    def _request(self, handler: Handler, wire: Wire) -> Any:
        """The request the handler gets: decoded by its own deserializer."""
        if isinstance(wire, Undecodable):
            return Refused(undecodable(self.path, wire.reason))
        deserialize = handler.request_deserializer
        assert deserialize is not None
        return deserialize(wire)


async def _ended(context: DetachedContext, step: Awaitable[Any]) -> Any:
    """What `step` of a call returns; the status it ends the call with
    (any failure it does not turn into one is an internal error, as on
    gRPC) raised as a Connect error."""
    try:
        return await step
    except grpc.aio.AbortError:
        pass
    except (StopAsyncIteration, ConnectError):
        raise
    except Exception as exc:
        with contextlib.suppress(grpc.aio.AbortError):
            await context.abort_with_status(as_api_error(exc).to_status())
    code = context.code()
    assert code is not None, "a call aborted without a status"
    details = dict(context.trailing_metadata()).get(DETAILS_KEY)
    raise connect_error(
        code, context.details() or "", details if isinstance(details, bytes) else None
    )


def _metadata(headers: Headers) -> Metadata:
    return tuple(
        (key.lower(), value)
        for key, value in headers.allitems()
        if key.lower() not in _HTTP_HEADERS and not key.lower().startswith("connect-")
    )


def _peer(address: str | None) -> str:
    """The client's address as gRPC names a peer (`ipv4:10.0.0.7:5123`,
    `ipv6:[::1]:5123`)."""
    if address is None:
        return "unknown"
    host, _, port = address.rpartition(":")
    return f"ipv6:[{host}]:{port}" if ":" in host else f"ipv4:{host}:{port}"


def _copy_trailers(context: DetachedContext, into: Headers) -> None:
    for key, value in context.trailing_metadata():
        if key != DETAILS_KEY and isinstance(value, str):
            into.add(key, value)
