"""The server interceptor that enforces credentials and their scopes.

Before a call is served: health and reflection pass; anything else needs
`authorization: Bearer <token>` metadata naming a valid credential
(`UNAUTHENTICATED` otherwise) that grants the method's access
(`PERMISSION_DENIED` otherwise). Once the request is deserialized, its
`namespace` must be one of the credential's (`PERMISSION_DENIED`
otherwise); for TailEvents this is checked before the first event.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import grpc

from memrpc.api.errors import ApiError, Context
from memrpc.api.handlers import rebuild
from memrpc.auth import keys, scopes
from memrpc.auth.credentials import Credential, describe, permission_denied, unauthenticated
from memrpc.auth.reloading import Authenticator

log = logging.getLogger("memrpc.auth")

if TYPE_CHECKING:
    from memrpc.api.handlers import Handler
_HOW = "send metadata `authorization: Bearer <API key or JWT>`"


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Admits calls whose credential covers the method and the namespace."""

    def __init__(self, key_ring: Authenticator | None, jwts: Authenticator | None) -> None:
        self._key_ring = key_ring
        self._jwts = jwts

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or scopes.is_public(method):
            return handler
        try:
            credential = self._authenticate(handler_call_details.invocation_metadata)
            _check_method(credential, method, handler)
        except ApiError as err:
            log.info("denied %s: %s", method, err.message)
            return rebuild(handler, _abort_with(err))
        return rebuild(handler, _guard(handler, credential))

    def _authenticate(self, metadata: Sequence[tuple[str, str | bytes]] | None) -> Credential:
        values = [value for key, value in metadata or () if key == "authorization"]
        if not values:
            raise unauthenticated(f"missing credential: {_HOW}")
        scheme, _, token = str(values[0]).partition(" ")
        if len(values) > 1 or scheme.lower() != "bearer" or not token.strip():
            raise unauthenticated(f"malformed authorization metadata: {_HOW}")
        token = token.strip()
        if token.startswith(keys.PREFIX):
            if self._key_ring is None:
                raise unauthenticated("this server accepts no API keys: send a JWT")
            return self._key_ring.authenticate(token)
        if self._jwts is None:
            raise unauthenticated("this server accepts only API keys (mrk_<id>_<secret>)")
        return self._jwts.authenticate(token)


def _check_method(credential: Credential, method: str, handler: Handler) -> None:
    access = scopes.METHOD_ACCESS.get(method)
    if access is None or handler.request_streaming:
        raise permission_denied(f"{method} has no access rule on this server")
    if not credential.may(access):
        raise permission_denied(
            f"{credential.subject} is read-only and {method} writes: use a read-write credential"
        )


def _check_namespace(credential: Credential, request: Any) -> None:
    namespace = request.namespace
    if not credential.may_use(namespace):
        raise permission_denied(
            f"{credential.subject} may not use namespace {namespace!r}; "
            f"it is limited to: {describe(credential.namespaces)}"
        )


def _abort_with(err: ApiError) -> Callable[..., Awaitable[None]]:
    async def abort(_request: Any, context: Context) -> None:
        await context.abort_with_status(err.to_status())

    return abort


def _guard(handler: Handler, credential: Credential) -> Callable[..., Any]:
    """The handler's behavior, run only for a request in the credential's namespaces."""
    if handler.response_streaming:
        stream = cast(Callable[[Any, Context], AsyncIterator[Any]], handler.unary_stream)

        async def guarded_stream(request: Any, context: Context) -> AsyncIterator[Any]:
            try:
                _check_namespace(credential, request)
            except ApiError as err:
                await context.abort_with_status(err.to_status())
            async for response in stream(request, context):
                yield response

        return guarded_stream
    unary = cast(Callable[[Any, Context], Awaitable[Any]], handler.unary_unary)

    async def guarded(request: Any, context: Context) -> Any:
        try:
            _check_namespace(credential, request)
        except ApiError as err:
            await context.abort_with_status(err.to_status())
        return await unary(request, context)

    return guarded
