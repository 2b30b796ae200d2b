"""Answering a call that writes only once a replica holds its writes
(`--durability replica`, `store/replica_ack.py`).

Every method with a unary response it is given (the server gives those that need write or
admin access, `auth/scopes.py`) is served, then confirmed: its response is
sent once `ReplicaAck.confirm` returns, and a call whose writes no replica
confirmed in time fails with `UNAVAILABLE` (`ERROR_REASON_NOT_REPLICATED`)
instead. A call that failed wrote nothing and is not confirmed. Reads are
not confirmed, and neither are the writes a read makes on the side (access
counts) nor those of the background jobs: no caller was told they are safe.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING, Any

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
    """Answers the calls of `writing` (full method names) once `ack`
    confirms their writes."""

    def __init__(self, ack: ReplicaAck, writing: Collection[str]) -> None:
        self._ack = ack
        self._writing = frozenset(writing)

    def wrap(self, handler: Handler, call: grpc.HandlerCallDetails) -> Handler:
        # A unary response: a unary request, or a client stream (ImportData).
        serve = handler.unary_unary or handler.stream_unary
        if serve is None or call.method not in self._writing:
            return handler
        return rebuild(handler, _confirmed(serve, self._ack))
