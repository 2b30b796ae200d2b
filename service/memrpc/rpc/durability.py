"""Answering a call that writes only once a replica holds its writes
(`--durability replica`, `store/replica_ack.py`).

Every unary method that needs write or admin access (`auth/scopes.py`) is
served, then confirmed: its response is sent once `ReplicaAck.confirm`
returns, and a call whose writes no replica confirmed in time fails with
`UNAVAILABLE` (`ERROR_REASON_NOT_REPLICATED`) instead. A call that failed
wrote nothing and is not confirmed. Reads are not confirmed, and neither
are the writes a read makes on the side (access counts) nor those of the
background jobs: no caller was told they are safe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from memrpc.auth.scopes import METHOD_ACCESS, READ
from memrpc.rpc.errors import Context, as_api_error
from memrpc.rpc.handlers import WrappingInterceptor, rebuild
from memrpc.store.replica_ack import ReplicaAck

if TYPE_CHECKING:
    import grpc

    from memrpc.rpc.handlers import Handler


def _confirmed(serve: Callable[..., Awaitable[Any]], ack: ReplicaAck) -> Callable[..., Any]:
    async def confirmed(request: Any, context: Context) -> Any:
        response = await serve(request, context)
        try:
            await ack.confirm()
        except Exception as exc:  # reported to the caller as a status
            await context.abort_with_status(as_api_error(exc).to_status())
        return response

    return confirmed


class DurabilityInterceptor(WrappingInterceptor):
    """Answers the calls that write once `ack` confirms their writes."""

    def __init__(self, ack: ReplicaAck) -> None:
        self._ack = ack

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        writes = METHOD_ACCESS.get(call.method, READ) is not READ
        if handler.unary_unary is None or not writes:
            return handler
        return rebuild(handler, _confirmed(handler.unary_unary, self._ack))
