"""The bearer token a client sends on every call, for the sync and async clients.

A server with authentication on wants metadata `authorization: Bearer <token>`
(an API key `mrk_<id>_<secret>` or a JWT). Call credentials would carry it
too, but gRPC sends those only on TLS or local channels; a client interceptor
adds it on any channel, plaintext loopback included. `BearerToken.merge` is
the one place the token joins a call's own metadata; the interceptors
only hand it their calls. memrpc's RPCs stream one way at most (ImportData
streams requests, TailEvents and ExportData responses), so unary-unary,
unary-stream and stream-unary interception covers every call.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import grpc

Token = str | Callable[[], str]
"""A token, or a function returning the current one (called before every call)."""

Metadatum = tuple[str, str | bytes]

_KEY = "authorization"
_TOKEN_CHARACTERS = frozenset(string.ascii_letters + string.digits + string.punctuation)


def _checked(token: object) -> str:
    """The token, if it can be sent as a header value; never echoes it."""
    if not isinstance(token, str):
        raise TypeError(f"a memrpc token must be a str, not {type(token).__name__}")
    if token[:7].lower() == "bearer ":
        raise ValueError("pass the token alone: the client adds 'Bearer ' itself")
    if not token or not _TOKEN_CHARACTERS.issuperset(token):
        raise ValueError(
            "a memrpc token (an API key mrk_<id>_<secret> or a JWT) is non-empty "
            "printable ASCII without spaces; check that the whole token was passed"
        )
    return token


class BearerToken:
    """A token to send as `authorization: Bearer <token>`; its repr hides it."""

    __slots__ = ("_source",)

    def __init__(self, token: Token) -> None:
        if callable(token):
            self._source: Token = token
        else:
            self._source = _checked(token)

    def __repr__(self) -> str:
        return "BearerToken(<redacted>)"

    def current(self) -> str:
        """The token to send now."""
        return _checked(self._source()) if callable(self._source) else self._source

    def merge(self, metadata: Iterable[Metadatum] | None) -> tuple[Metadatum, ...]:
        """A call's metadata with the token added, unless the call sends its own."""
        merged = tuple(metadata or ())
        if any(key == _KEY for key, _ in merged):
            return merged
        return (*merged, (_KEY, f"Bearer {self.current()}"))


class _SyncDetails(NamedTuple):
    method: str
    timeout: float | None
    metadata: tuple[Metadatum, ...] | None
    credentials: grpc.CallCredentials | None
    wait_for_ready: bool | None
    compression: grpc.Compression | None


class _SyncCallDetails(_SyncDetails, grpc.ClientCallDetails):
    """grpc.ClientCallDetails with new metadata (grpc's own type is private)."""


class SyncBearerInterceptor(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
):
    """Adds the token to every call of a blocking channel."""

    def __init__(self, token: BearerToken) -> None:
        self.token = token

    def _details(self, details: grpc.ClientCallDetails) -> grpc.ClientCallDetails:
        return _SyncCallDetails(
            details.method,
            details.timeout,
            self.token.merge(details.metadata),
            details.credentials,
            details.wait_for_ready,
            details.compression,
        )

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._details(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._details(details), requests)


class _AsyncBearer:
    """Adds the token to the calls of a grpc.aio channel."""

    def __init__(self, token: BearerToken) -> None:
        self.token = token

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        return grpc.aio.ClientCallDetails(
            details.method,
            details.timeout,
            grpc.aio.Metadata(*self.token.merge(details.metadata)),
            details.credentials,
            details.wait_for_ready,
        )


class _AsyncUnaryUnary(_AsyncBearer, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _AsyncUnaryStream(_AsyncBearer, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _AsyncStreamUnary(_AsyncBearer, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


def async_interceptors(token: BearerToken) -> list[grpc.aio.ClientInterceptor]:
    """The interceptors adding the token to a grpc.aio channel's calls: one per
    kind, since grpc.aio files an interceptor under its first kind only."""
    return [_AsyncUnaryUnary(token), _AsyncUnaryStream(token), _AsyncStreamUnary(token)]


def describe(client: object, target: str, namespace: str, token: BearerToken | None) -> str:
    """A client's repr: where it connects, never its token."""
    shown = "" if token is None else ", token=<redacted>"
    return f"{type(client).__name__}({target!r}, namespace={namespace!r}{shown})"
