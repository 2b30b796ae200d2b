"""Who is calling: the identity per-caller caps count against.

On a server with authentication, the auth interceptor names each admitted
call's caller with `act_as(credential.subject, credential.id)` ("API key 'ci-bot'", "JWT
of 'alice'"), so every connection of one key or token is one caller.
The tenant of per-tenant quotas (`fairness`) and of the access log is that
subject too (`tenant_of`), and a request's namespace without
authentication. Without authentication a caller is its client's address
without the port: every connection from one host (or from one proxy, which
all its clients share) is one caller; a Unix socket's clients are all one
caller.

The identity travels in a context variable: grpc.aio serves each call in a
task of its own, interceptors included, so what the interceptor sets there
is what the servicer reads, and ends with the call; neither imports the
other.
"""

from __future__ import annotations

import contextvars
import urllib.parse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from memrpc.rpc.errors import Context

_SUBJECT: contextvars.ContextVar[str | None] = contextvars.ContextVar("memrpc_caller", default=None)
_CREDENTIAL_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "memrpc_credential_id", default=None
)


def act_as(subject: str, credential_id: str) -> None:
    """Makes `subject` the caller of the call being served, its credential
    `credential_id` (`key:ci-bot`)."""
    _SUBJECT.set(subject)
    _CREDENTIAL_ID.set(credential_id)


def credential_id() -> str | None:
    """The id of the credential of the call being served (`key:ci-bot`,
    `jwt:alice`), None without authentication."""
    return _CREDENTIAL_ID.get()


def subject() -> str | None:
    """The authenticated subject of the call being served, None without
    authentication."""
    return _SUBJECT.get()


def tenant_of(request: Any) -> str:
    """The tenant a decoded memrpc request counts against: its caller's
    subject under authentication, else its namespace."""
    name = _SUBJECT.get()
    return f"credential:{name}" if name is not None else f"namespace:{request.namespace}"


def caller(context: Context) -> str:
    """The caller of the call being served: its authenticated subject, else
    its peer address without the port (`ipv4:10.0.0.7`, `ipv6:[::1]`)."""
    subject = _SUBJECT.get()
    if subject is not None:
        return subject
    peer = urllib.parse.unquote(context.peer())  # `ipv6:%5B::1%5D:50123`
    kind, _, address = peer.partition(":")
    if kind in ("ipv4", "ipv6"):
        return f"{kind}:{address.rsplit(':', 1)[0]}"
    return peer
