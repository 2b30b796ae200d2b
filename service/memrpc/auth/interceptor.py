"""The server interceptor that enforces credentials and their scopes.

Before a call is served: health and reflection pass; anything else needs
`authorization: Bearer <token>` metadata naming a valid credential
(`UNAUTHENTICATED` otherwise) that grants the method's access
(`PERMISSION_DENIED` otherwise); the credential's subject becomes the
call's caller (`memrpc.rpc.caller`, which per-caller caps and per-tenant
quotas count). Once the
request is deserialized, its `namespace` must be one of the credential's
(`PERMISSION_DENIED` otherwise); for TailEvents this is checked before the
first event, and for a client stream (ImportData) on each request that
names a namespace, as the servicer reads it (a denial raised there is the
servicer's to report).

A server stream (TailEvents) may stay open for hours, so before sending a
message it checks its token again, the method's access and the namespace,
once `RECHECK_INTERVAL_S` has passed since the last check: a key removed or
narrowed in the key file, a JWT past its `exp` or whose signing key left the
JWKS file ends the stream with the status a new call would get. Between
checks a message costs a clock read.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import grpc

from memrpc.auth import keys, scopes
from memrpc.auth.credentials import Credential, describe, permission_denied, unauthenticated
from memrpc.auth.reloading import Authenticator
from memrpc.rpc import caller
from memrpc.rpc.errors import ApiError, Context
from memrpc.rpc.handlers import WrappingInterceptor, rebuild
from memrpc.v1.error_reason_pb2 import ErrorReason

log = logging.getLogger("memrpc.auth")

if TYPE_CHECKING:
    from memrpc.rpc.handlers import Handler
_HOW = "send metadata `authorization: Bearer <API key or JWT>`"
# Seconds (monotonic clock) an open stream sends messages without checking
# its credential again.
RECHECK_INTERVAL_S = 1.0


class AuthInterceptor(WrappingInterceptor):
    """Admits calls whose credential covers the method and the namespace."""

    def __init__(self, key_ring: Authenticator | None, jwts: Authenticator | None) -> None:
        self._key_ring = key_ring
        self._jwts = jwts

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        method = call.method
        if scopes.is_public(method):
            return handler
        try:
            token = _bearer_token(call.invocation_metadata)
            credential = self._admit(token, method, handler)
        except ApiError as err:
            log.info("denied %s: %s", method, err.message)
            return rebuild(handler, _abort_with(err))
        caller.act_as(credential.subject, credential.id)
        readmit = functools.partial(self._admit, token, method, handler)
        if handler.response_streaming:
            return rebuild(handler, _guard_stream(handler, method, credential, readmit))
        if handler.request_streaming:
            return rebuild(handler, _guard_requests(handler, method, credential, readmit))
        return rebuild(handler, _guard(handler, method, credential))

    def _admit(self, token: str, method: str, handler: Handler) -> Credential:
        """The credential of `token` if it may call `method`; raises `ApiError`."""
        credential = self._authenticate(token)
        _check_method(credential, method, handler)
        return credential

    def _authenticate(self, token: str) -> Credential:
        if token.startswith(keys.PREFIX):
            if self._key_ring is None:
                raise unauthenticated(
                    ErrorReason.ERROR_REASON_CREDENTIAL_MISSING,
                    "this server accepts no API keys: send a JWT",
                )
            return self._key_ring.authenticate(token)
        if self._jwts is None:
            raise unauthenticated(
                ErrorReason.ERROR_REASON_CREDENTIAL_MISSING,
                "this server accepts only API keys (mrk_<id>_<secret>)",
            )
        return self._jwts.authenticate(token)


def _bearer_token(metadata: Sequence[tuple[str, str | bytes]] | None) -> str:
    values = [value for key, value in metadata or () if key == "authorization"]
    if not values:
        raise unauthenticated(
            ErrorReason.ERROR_REASON_CREDENTIAL_MISSING, f"missing credential: {_HOW}"
        )
    scheme, _, token = str(values[0]).partition(" ")
    if len(values) > 1 or scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated(
            ErrorReason.ERROR_REASON_CREDENTIAL_MISSING, f"malformed authorization metadata: {_HOW}"
        )
    return token.strip()


def _check_method(credential: Credential, method: str, handler: Handler) -> None:
    access = scopes.METHOD_ACCESS.get(method)
    if access is None or (handler.request_streaming and handler.response_streaming):
        raise permission_denied(
            ErrorReason.ERROR_REASON_METHOD_FORBIDDEN,
            f"{method} has no access rule on this server",
            method=method,
        )
    if not credential.may(access):
        raise permission_denied(
            ErrorReason.ERROR_REASON_METHOD_FORBIDDEN,
            f"{credential.subject} has {credential.access.value} access and {method} needs "
            f"{access.value} access: use a credential with {access.value} access",
            method=method,
        )


def _check_namespace(credential: Credential, request: Any) -> None:
    namespace = request.namespace
    if not credential.may_use(namespace):
        raise permission_denied(
            ErrorReason.ERROR_REASON_NAMESPACE_FORBIDDEN,
            f"{credential.subject} may not use namespace {namespace!r}; "
            f"it is limited to: {describe(credential.namespaces)}",
            namespace=namespace,
        )


async def _refuse_other_namespaces(
    credential: Credential, request: Any, context: Context, method: str
) -> None:
    """Aborts the call, logging why, unless its request's namespace is one
    of the credential's."""
    try:
        _check_namespace(credential, request)
    except ApiError as err:
        log.info("denied %s: %s", method, err.message)
        await context.abort_with_status(err.to_status())


def _abort_with(err: ApiError) -> Callable[..., Awaitable[None]]:
    async def abort(_request: Any, context: Context) -> None:
        await context.abort_with_status(err.to_status())

    return abort


def _guard(handler: Handler, method: str, credential: Credential) -> Callable[..., Any]:
    """A unary handler's behavior, run only for a request in the credential's namespaces."""
    unary = cast(Callable[[Any, Context], Awaitable[Any]], handler.unary_unary)

    async def guarded(request: Any, context: Context) -> Any:
        await _refuse_other_namespaces(credential, request, context, method)
        return await unary(request, context)

    return guarded


def _guard_requests(
    handler: Handler, method: str, credential: Credential, readmit: Callable[[], Credential]
) -> Callable[..., Awaitable[Any]]:
    """A client stream's behavior (ImportData), served only while each of
    its requests names one of the credential's namespaces (or none: the
    first request's holds for the rest) and, once `RECHECK_INTERVAL_S` has
    passed since the last check, the token still admits the call."""
    serve = cast(Callable[[AsyncIterator[Any], Context], Awaitable[Any]], handler.stream_unary)

    async def checked_requests(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        checked = time.monotonic()
        async for request in requests:
            try:
                current = credential
                if time.monotonic() - checked >= RECHECK_INTERVAL_S:
                    checked = time.monotonic()
                    current = readmit()
                if request.namespace:
                    _check_namespace(current, request)
            except ApiError as err:  # the servicer reading the requests reports it
                log.info("denied %s of %s: %s", method, credential.subject, err.message)
                raise
            yield request

    async def guarded_requests(requests: AsyncIterator[Any], context: Context) -> Any:
        return await serve(checked_requests(requests), context)

    return guarded_requests


def _guard_stream(
    handler: Handler, method: str, credential: Credential, readmit: Callable[[], Credential]
) -> Callable[..., AsyncIterator[Any]]:
    """A server stream's behavior, run only for a request in the credential's
    namespaces, and ended once `readmit` (the call's token checked again for
    `method`) or the namespace fails a re-check before a message."""
    stream = cast(Callable[[Any, Context], AsyncGenerator[Any, None]], handler.unary_stream)

    async def guarded_stream(request: Any, context: Context) -> AsyncIterator[Any]:
        await _refuse_other_namespaces(credential, request, context, method)
        checked = time.monotonic()
        async with contextlib.aclosing(stream(request, context)) as responses:
            async for response in responses:
                now = time.monotonic()
                if now - checked >= RECHECK_INTERVAL_S:
                    checked = now
                    try:
                        _check_namespace(readmit(), request)
                    except ApiError as err:
                        log.info("ended %s of %s: %s", method, credential.subject, err.message)
                        await context.abort_with_status(err.to_status())
                yield response

    return guarded_stream
